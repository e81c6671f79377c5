/**
 * Loads the resource-type tables of specs/ (attributes, short names, data types, create/update optionality,
 * TS-0004 7.4.x) and compiles them with ajv into one validator per type and operation. The same tables drive
 * serialization (short/long names, element order) and the resource tree (allowed child types).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { CseError, RSC } from '../primitive/status.js';
import { geoCoordinatesError } from './geo.js';

export type Optionality = 'M' | 'O' | 'NP';
/** multiplicity: 1, 0..1, 1 list, 0..1 list */
export type Multiplicity = '1' | '01' | '1L' | '01L';

export interface AttributeSpec {
  sn: string;
  ln: string;
  type: string;
  oc: Optionality;
  ou: Optionality;
  car: Multiplicity;
  /** the release that added the attribute to the type, when later than Release 1 ("4": nse of a <subscription>) */
  since?: string;
}

/** m2m:releaseVersion values in order (TS-0004 6.3.3; 4 and 5 of the later releases) */
const RELEASES = ['1', '2', '2a', '3', '4', '5'];

/** whether release `a` comes before release `b` (an unknown one counts as the latest) */
export function releaseBefore(a: string, b: string): boolean {
  const i = RELEASES.indexOf(a);
  const j = RELEASES.indexOf(b);
  return i >= 0 && (j < 0 || i < j);
}

export interface ResourceTypeSpec {
  ty: number;
  sn: string;
  ln: string;
  clause?: string;
  childTypes: number[];
  /** in XSD order */
  attributes: Map<string, AttributeSpec>;
}

interface Validators {
  create: ValidateFunction;
  update: ValidateFunction;
}

export class SchemaRegistry {
  readonly byTy = new Map<number, ResourceTypeSpec>();
  readonly bySn = new Map<string, ResourceTypeSpec>();
  private readonly validators = new Map<number, Validators>();
  /** every known attribute short name -> long name (for serializations that use long names, and docs) */
  readonly attributeLongNames = new Map<string, string>();

  constructor(specsDir: string) {
    const dictionary = readJson<Record<string, { ln: string; type: string }>>(join(specsDir, 'attributes.json'));
    const types = readJson<Record<string, object>>(join(specsDir, 'types.json'));
    for (const [sn, a] of Object.entries(dictionary)) this.attributeLongNames.set(sn, a.ln);

    const ajv = new Ajv({ allErrors: false, strict: false });
    // m2m:geoCoordinates: crd must be the coordinates of the geometry typ names (src/schema/geo.ts)
    ajv.addKeyword({
      keyword: 'geoCoordinates',
      type: 'object',
      errors: true,
      validate: function check(_schema: unknown, data: { typ?: unknown; crd?: unknown }) {
        if (typeof data.typ !== 'number' || typeof data.crd !== 'string') return true; // reported by its members
        const message = geoCoordinatesError({ typ: data.typ, crd: data.crd });
        if (message) (check as { errors?: unknown[] }).errors = [{ keyword: 'geoCoordinates', message, params: {} }];
        return message === undefined;
      },
    });
    for (const [name, schema] of Object.entries(types)) ajv.addSchema(schema, `t:${name}`);

    // every type implemented is a type of TS-0004 Table 6.3.4.2.1-1 under its own number and name
    const numbers = new Map(
      readJson<{ types: { ty: number; ln: string }[] }>(join(specsDir, 'resource-types.json')).types.map((t) => [
        t.ty,
        t.ln,
      ]),
    );
    const dir = join(specsDir, 'resources');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const raw = readJson<{
        ty: number;
        sn: string;
        ln: string;
        clause?: string;
        childTypes: number[];
        attributes: Record<string, { oc: Optionality; ou: Optionality; car: Multiplicity; since?: string }>;
      }>(join(dir, file));
      if (numbers.get(raw.ty) !== raw.ln)
        throw new Error(
          `specs/resources/${file}: type ${raw.ty} is '${numbers.get(raw.ty)}' in specs/resource-types.json`,
        );
      const attributes = new Map<string, AttributeSpec>();
      for (const [sn, a] of Object.entries(raw.attributes)) {
        const d = dictionary[sn];
        if (!d) throw new Error(`specs/resources/${file}: attribute ${sn} is not in specs/attributes.json`);
        if (!types[d.type]) throw new Error(`specs/attributes.json: ${sn} has unknown type ${d.type}`);
        attributes.set(sn, {
          sn,
          ln: d.ln,
          type: d.type,
          oc: a.oc,
          ou: a.ou,
          car: a.car,
          ...(a.since ? { since: a.since } : {}),
        });
      }
      const spec: ResourceTypeSpec = { ...raw, attributes };
      this.byTy.set(spec.ty, spec);
      this.bySn.set(spec.sn, spec);
      this.validators.set(spec.ty, {
        create: ajv.compile(objectSchema(spec, 'oc')),
        update: ajv.compile(objectSchema(spec, 'ou')),
      });
    }
  }

  spec(ty: number): ResourceTypeSpec | undefined {
    return this.byTy.get(ty);
  }

  /**
   * Attribute `sn` of a type as the originator's release (rvi) knows it; 4000 when the type does not define it, or
   * when a later release added it (TS-0004 7.3.3.3 / 7.3.3.4: "an attribute not listed in the table" of its release).
   */
  attribute(spec: ResourceTypeSpec, sn: string, rvi: string | undefined): AttributeSpec {
    const a = spec.attributes.get(sn);
    if (!a) throw new CseError(RSC.BAD_REQUEST, `attribute '${sn}' is not defined for ${spec.ln}`);
    if (a.since && rvi !== undefined && releaseBefore(rvi, a.since))
      throw new CseError(
        RSC.BAD_REQUEST,
        `attribute '${sn}' (${a.ln}) of ${spec.ln} is defined from release ${a.since} on, not in release ${rvi} (rvi)`,
      );
    return a;
  }

  /**
   * Validates the attributes of a CREATE or UPDATE request (TS-0004 7.3.3.3 / 7.3.3.4): an unknown attribute,
   * an NP attribute, a missing mandatory attribute, a null on create or on a mandatory attribute, a wrong type or
   * value: 4000 with a message naming the attribute. With the request's release version (rvi), an attribute a
   * later release added is unknown to it, 4000 as any attribute the type does not define (TS-0004 7.3.3.3 / 7.3.3.4:
   * "an attribute not listed in the table" of the originator's release).
   */
  validate(ty: number, op: 'create' | 'update', attrs: Record<string, unknown>, rvi?: string): void {
    const spec = this.byTy.get(ty);
    if (!spec) throw new CseError(RSC.NOT_IMPLEMENTED, `resource type ${ty} is not supported`);
    const key = op === 'create' ? 'oc' : 'ou';
    for (const [sn, value] of Object.entries(attrs)) {
      const a = this.attribute(spec, sn, rvi);
      // cr is the one NP attribute a request may carry, as null, to ask for the creator (TS-0004 7.3.3.3)
      if (sn === 'cr') {
        if (op === 'create' && value === null) continue;
        throw new CseError(RSC.BAD_REQUEST, `attribute 'cr' may only be given as null in a CREATE`);
      }
      if (a[key] === 'NP') throw new CseError(RSC.BAD_REQUEST, `attribute '${sn}' (${a.ln}) is not allowed in ${op}`);
      if (value === null) {
        if (op === 'create') throw new CseError(RSC.BAD_REQUEST, `attribute '${sn}' must not be null in create`);
        if (a.car === '1' || a.car === '1L' || a.oc === 'M')
          throw new CseError(RSC.BAD_REQUEST, `mandatory attribute '${sn}' cannot be deleted`);
      }
    }
    if (op === 'create') {
      for (const a of spec.attributes.values())
        if (a.oc === 'M' && attrs[a.sn] === undefined)
          throw new CseError(RSC.BAD_REQUEST, `mandatory attribute '${a.sn}' (${a.ln}) is missing`);
    }
    const validate = this.validators.get(ty)![op];
    if (!validate(attrs)) {
      // the error of the value's own type, not that it is no null (every attribute is null or its type)
      const errors = validate.errors!;
      const e = errors.find((x) => x.keyword !== 'anyOf' && !x.schemaPath.endsWith('/anyOf/0/type')) ?? errors[0]!;
      const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'content';
      throw new CseError(RSC.BAD_REQUEST, `invalid value of '${where}': ${e.message ?? 'invalid'}`);
    }
  }
}

/** The JSON Schema of a request's attributes; presence rules are checked above, so only types and values here. */
function objectSchema(spec: ResourceTypeSpec, _key: 'oc' | 'ou'): object {
  const properties: Record<string, object> = {};
  for (const a of spec.attributes.values()) {
    if (a.sn === 'cr') continue;
    properties[a.sn] = { anyOf: [{ type: 'null' }, { $ref: `t:${a.type}` }] };
  }
  return { type: 'object', properties };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

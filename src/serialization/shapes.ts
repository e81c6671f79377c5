/**
 * The shape of each element of the oneM2M data model as the XML serialization needs it (TS-0004 8.3), derived
 * from the specs/ tables: specs/attributes.json (short name -> data type), specs/types.json (data types as JSON
 * Schema) and specs/resources/*.json (attributes per resource type, in XSD order). JSON and CBOR need no shapes
 * (their values carry their own types); XML carries only text, so decoding types the text back from here.
 *
 * Derivation rules from a JSON Schema (TS-0004 8.4.2 read backwards):
 * - integer / number / enum of numbers -> number; boolean -> boolean; string / enum of strings -> string;
 * - an array of simple items -> xs:list (one element, values separated by spaces);
 * - an array of objects -> an element repeated once per item (maxOccurs > 1);
 * - an object with properties -> a complex type, members in the order of `properties`; an `xml` member
 *   {"attributes": [...], "text": "val"} marks members carried as XML attributes and the element's own text
 *   (simple types with XML attributes, 8.4.2);
 * - anyOf of a number and a string (m2m:absRelTimestamp) -> number when the text is an integer, else string;
 * - no type at all (xs:anyType, e.g. `con`) -> text.
 * An attribute of specs/attributes.json with "xml": "attribute" is an XML attribute of its resource element
 * (resourceName, TS-0004 6.3.6 Table 6.3.6-2 `@resourceName`).
 *
 * Whole primitives (TS-0004 8.3.2: root m2m:rqp / m2m:rsp, short names of m2m:requestPrimitive /
 * m2m:responsePrimitive, 6.4.1 / 6.4.2) are complex types whose members are the parameters of specs/primitive.json
 * `request` / `response`, in that order, typed by specs/types.json; the members of filterCriteria are those of
 * specs/primitive.json `filterCriteria`. A type with "xml": "content" (m2m:primitiveContent, 7.5.2) holds root
 * elements: each child element is shaped as that element is on its own as a document (see `root`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/project-root.js';

export type Shape =
  | { readonly k: 'string' }
  | { readonly k: 'number' }
  | { readonly k: 'boolean' }
  /** m2m:absRelTimestamp and similar unions: an integer text is a number, anything else a string */
  | { readonly k: 'numOrString' }
  /** xs:anyType (content of a contentInstance): text; element content is kept as its XML text */
  | { readonly k: 'anyType' }
  /** not described by the tables: structure taken from the document, text as strings */
  | { readonly k: 'generic' }
  /**
   * m2m:primitiveContent (TS-0004 7.5.2): child elements that are root elements (m2m:cin, m2m:dbg, m2m:sgn ...),
   * each shaped by `SerializationModel.root`; the value is an object of those elements, {"m2m:cin": {...}}
   */
  | { readonly k: 'content' }
  /** xs:list: one element, items separated by white space */
  | { readonly k: 'list'; readonly item: Shape }
  /** maxOccurs > 1: the element repeated once per item */
  | { readonly k: 'repeat'; readonly item: Shape }
  | ObjectShape
  /** a resource element m2m:<sn> (specs/resources), resolved on use */
  | { readonly k: 'resource'; readonly sn: string };

export interface ObjectShape {
  readonly k: 'object';
  /** members in XSD order */
  readonly members: ReadonlyMap<string, Shape>;
  /** members carried as XML attributes */
  readonly attributes: ReadonlySet<string>;
  /** the member holding the element's own text (simple content with attributes), e.g. 'val' */
  readonly text?: string;
  /**
   * How m2m:<sn> members are carried: 'children' for the child resources of a resource (always arrays, rcn 4/8,
   * TS-0004 8.4.2 rule on maxOccurs > 1), 'single' for the wrapped resource of m2m:rce.
   */
  readonly resources?: 'children' | 'single';
}

export const STRING: Shape = { k: 'string' };
export const GENERIC: Shape = { k: 'generic' };
export const CONTENT: Shape = { k: 'content' };

type JsonSchema = Record<string, unknown>;

/** specs/primitive.json: each parameter by short name with its data type (specs/types.json), in XSD order */
export interface PrimitiveTables {
  request: Record<string, { type: string }>;
  response: Record<string, { type: string }>;
  filterCriteria: Record<string, { type: string }>;
}

export interface SpecTables {
  attributes: Record<string, { ln: string; type: string; xml?: string }>;
  types: Record<string, JsonSchema>;
  resources: { ty: number; sn: string; attributes: Record<string, unknown> }[];
  /** without it, m2m:rqp / m2m:rsp are generic and filterCriteria has no typed members */
  primitive?: PrimitiveTables;
}

/** The root elements of whole primitives (TS-0004 8.2.2: rqp, rsp) and the parameters of specs/primitive.json. */
const PRIMITIVE_ROOTS = new Map<string, 'request' | 'response'>([
  ['m2m:rqp', 'request'],
  ['m2m:rsp', 'response'],
]);

/**
 * Content elements that are not resources (TS-0004 7.5.2, Tables 7.5.2-1 / 7.5.2-2, short names from 8.2.5),
 * by the data type in specs/types.json that describes them.
 */
const CONTENT_ROOTS = new Map<string, string>([
  ['m2m:dbg', 'string'], // debugInfo, xs:string
  ['m2m:uri', 'anyURI'], // URI, xs:anyURI
  ['m2m:uril', 'listOfURIs'], // URIList, list of xs:anyURI
  ['m2m:atrl', 'ncNameList'], // attributeList, list of xs:NCName (m2m:attributeList)
  ['m2m:rrl', 'listOfChildResourceRef'], // resourceRefList
  ['m2m:rce', 'resourceWrapper'], // resource + URI
]);

/**
 * Global elements of the m2m namespace that are not resources: notification and primitive structures
 * (TS-0004 7.5.1, 6.4). Every other m2m:<name> element is a resource representation (7.5.2), whose
 * attributes, if the type is not in specs/resources, are typed from specs/attributes.json alone.
 */
const NOT_RESOURCES = new Set(['m2m:sgn', 'm2m:agn', 'm2m:agr', 'm2m:seci', 'm2m:qres', 'm2m:rqp', 'm2m:rsp']);

export class SerializationModel {
  private readonly typeShapes = new Map<string, Shape>();
  private readonly resourceShapes = new Map<string, ObjectShape>();
  private readonly attributeShapes = new Map<string, Shape>();
  private readonly resourceAttrs = new Map<string, string[]>();
  private readonly primitiveShapes = new Map<string, ObjectShape>();

  constructor(private readonly tables: SpecTables) {
    for (const r of tables.resources) this.resourceAttrs.set(r.sn, Object.keys(r.attributes));
  }

  /** The tables of a specs/ directory (default: the project's). */
  static load(specsDir = join(projectRoot(), 'specs')): SerializationModel {
    const read = <T>(p: string) => JSON.parse(readFileSync(p, 'utf8')) as T;
    const dir = join(specsDir, 'resources');
    return new SerializationModel({
      attributes: read(join(specsDir, 'attributes.json')),
      types: read(join(specsDir, 'types.json')),
      resources: readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => read(join(dir, f))),
      primitive: read(join(specsDir, 'primitive.json')),
    });
  }

  /** The shape of a root element, e.g. 'm2m:cnt', 'm2m:dbg', 'm2m:rqp'; generic when unknown. */
  root(name: string): Shape {
    const type = CONTENT_ROOTS.get(name);
    if (type) return this.type(type);
    const primitive = PRIMITIVE_ROOTS.get(name);
    if (primitive) return this.primitive(primitive);
    return this.isResource(name) ? { k: 'resource', sn: resourceSn(name)! } : GENERIC;
  }

  /**
   * A whole request or response primitive (m2m:rqp / m2m:rsp): the parameters of specs/primitive.json in their
   * order there, each typed by specs/types.json; generic when the tables have no primitive.json.
   */
  primitive(kind: 'request' | 'response'): Shape {
    const params = this.tables.primitive?.[kind];
    if (!params) return GENERIC;
    return this.objectOf(kind, params);
  }

  private objectOf(key: string, params: Record<string, { type: string }>): ObjectShape {
    let shape = this.primitiveShapes.get(key);
    if (!shape) {
      const members = new Map<string, Shape>();
      for (const [p, d] of Object.entries(params)) members.set(p, this.type(d.type));
      shape = { k: 'object', members, attributes: new Set() };
      this.primitiveShapes.set(key, shape);
    }
    return shape;
  }

  /** Whether an element name is a resource representation: m2m:<name>, not a content or notification element. */
  isResource(name: string): boolean {
    return name.startsWith('m2m:') && !CONTENT_ROOTS.has(name) && !NOT_RESOURCES.has(name);
  }

  /**
   * The element shape of a resource type m2m:<sn>: its attributes from specs/resources in XSD order, or, for a
   * type the tables do not describe, none (each member is then typed by specs/attributes.json alone).
   */
  resource(sn: string): ObjectShape {
    // unknown types share one shape: element names come from clients, so they must not grow a cache
    const key = this.resourceAttrs.has(sn) ? sn : '';
    const cached = this.resourceShapes.get(key);
    if (cached) return cached;
    const names = this.resourceAttrs.get(key) ?? [];
    const members = new Map<string, Shape>();
    const attributes = new Set<string>();
    for (const [a, d] of Object.entries(this.tables.attributes)) if (d.xml === 'attribute') attributes.add(a);
    for (const a of names) members.set(a, this.attribute(a));
    // childResource (ch, TS-0004 8.2.5): references of the children, after the attributes (XSD choice at the end)
    members.set('ch', { k: 'repeat', item: this.type('childResourceRef') });
    const shape: ObjectShape = { k: 'object', members, attributes, resources: 'children' };
    this.resourceShapes.set(key, shape);
    return shape;
  }

  /** The shape of an attribute by short name (specs/attributes.json); generic when unknown. */
  attribute(sn: string): Shape {
    let s = this.attributeShapes.get(sn);
    if (!s) {
      // only names of the dictionary are cached: others come from clients
      const a = Object.hasOwn(this.tables.attributes, sn) ? this.tables.attributes[sn] : undefined;
      if (!a) return GENERIC;
      s = this.type(a.type);
      this.attributeShapes.set(sn, s);
    }
    return s;
  }

  /** The shape of a data type of specs/types.json. */
  type(name: string): Shape {
    let s = this.typeShapes.get(name);
    if (!s) {
      const schema = this.tables.types[name];
      if (!schema) throw new Error(`specs/types.json has no type '${name}'`);
      // m2m:filterCriteria (TS-0004 6.3.5.8): its members and their types are those of specs/primitive.json
      const fc = name === 'filterCriteria' ? this.tables.primitive?.filterCriteria : undefined;
      s = fc ? this.objectOf('filterCriteria', fc) : this.fromSchema(schema, name === 'resourceWrapper');
      this.typeShapes.set(name, s);
    }
    return s;
  }

  private fromSchema(schema: JsonSchema, wrapper = false): Shape {
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref.startsWith('t:')) return this.type(ref.slice(2));
    if (schema.xml === 'content') return CONTENT;
    const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (alternatives) return this.union(alternatives.map((a) => this.fromSchema(a)));
    if (Array.isArray(schema.enum)) {
      const kinds = new Set(schema.enum.map((v) => typeof v));
      if (kinds.size === 1 && kinds.has('number')) return { k: 'number' };
      if (kinds.size === 1 && kinds.has('boolean')) return { k: 'boolean' };
      if (kinds.size === 1 && kinds.has('string')) return STRING;
      return kinds.has('number') ? { k: 'numOrString' } : STRING;
    }
    switch (schema.type) {
      case 'integer':
      case 'number':
        return { k: 'number' };
      case 'boolean':
        return { k: 'boolean' };
      case 'string':
        return STRING;
      case 'array': {
        const item = schema.items ? this.fromSchema(schema.items as JsonSchema) : GENERIC;
        if (schema.xml === 'repeat' || !isSimple(item)) return { k: 'repeat', item };
        return { k: 'list', item };
      }
      case 'object': {
        const members = new Map<string, Shape>();
        for (const [m, s] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>))
          members.set(m, this.fromSchema(s));
        const xml = (schema.xml ?? {}) as { attributes?: string[]; text?: string };
        return {
          k: 'object',
          members,
          attributes: new Set(xml.attributes ?? []),
          ...(xml.text ? { text: xml.text } : {}),
          ...(wrapper ? { resources: 'single' as const } : {}),
        };
      }
      case undefined:
        return { k: 'anyType' };
      default:
        return GENERIC;
    }
  }

  /** anyOf: numbers and strings together read as numOrString; otherwise the first structured alternative. */
  private union(shapes: Shape[]): Shape {
    const kinds = new Set(shapes.map((s) => s.k));
    if (kinds.has('number') && (kinds.has('string') || kinds.has('numOrString'))) return { k: 'numOrString' };
    return shapes.find((s) => s.k === 'object') ?? shapes[0] ?? GENERIC;
  }
}

export function isSimple(s: Shape): boolean {
  return s.k === 'string' || s.k === 'number' || s.k === 'boolean' || s.k === 'numOrString';
}

/** 'm2m:cnt' -> 'cnt'; undefined for names without the m2m: prefix. */
export function resourceSn(name: string): string | undefined {
  return name.startsWith('m2m:') ? name.slice(4) : undefined;
}

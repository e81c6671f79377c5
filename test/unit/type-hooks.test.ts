/**
 * The seams of issue 10 point 3: an originator is identified once into one value; registration is a hook of the
 * registering type, so a new registering type (remoteCSE) is a module, not dispatcher branches; and type numbers
 * come from one generated table.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Originators } from '../../src/access/originator.js';
import { DEFAULTS } from '../../src/config.js';
import { Cse } from '../../src/cse.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { ResultShaper } from '../../src/dispatch/result-content.js';
import { ResourceTree } from '../../src/dispatch/tree.js';
import { EventBus } from '../../src/events/events.js';
import type { RequestPrimitive } from '../../src/primitive/primitive.js';
import type { ResourceType } from '../../src/resources/resource-type.js';
import { Ty } from '../../src/resources/type-numbers.js';
import { SchemaRegistry } from '../../src/schema/registry.js';

describe('Originators.identify: every form of From, classified once', () => {
  const ids = new Originators({ spId: 'city.example', cseId: '/id-in', admin: 'CAdmin' });

  it.each([
    ['Cae1', { absolute: '//city.example/id-in/Cae1', aeId: 'Cae1' }],
    ['/id-in/Cae1', { absolute: '//city.example/id-in/Cae1', aeId: 'Cae1' }],
    ['//city.example/id-in/Cae1', { absolute: '//city.example/id-in/Cae1', aeId: 'Cae1' }],
    ['Sae2', { absolute: '//city.example/Sae2', aeId: 'Sae2' }],
    ['/Sae2', { absolute: '//city.example/Sae2', aeId: 'Sae2' }],
    ['/id-mn', { absolute: '//city.example/id-mn', cseId: '/id-mn' }],
    ['//city.example/id-mn', { absolute: '//city.example/id-mn', cseId: '/id-mn' }],
    ['/id-mn/Cae9', { absolute: '//city.example/id-mn/Cae9' }],
    ['//other.example/id-in/Cae1', { absolute: '//other.example/id-in/Cae1' }],
    ['/id-in/Cae1/x', { absolute: '//city.example/id-in/Cae1/x' }],
  ])('%s', (fr, expected) => {
    const o = ids.identify(fr);
    expect(o.absolute).toBe(expected.absolute);
    expect(o.aeId).toBe((expected as { aeId?: string }).aeId);
    expect(o.cseId).toBe((expected as { cseId?: string }).cseId);
    expect(o.isAdmin || o.isThisCse || o.authenticated).toBe(false);
  });

  it('the admin and this CSE in any form; no From', () => {
    for (const fr of ['CAdmin', '/id-in/CAdmin', '//city.example/id-in/CAdmin'])
      expect(ids.identify(fr).isAdmin).toBe(true);
    for (const fr of ['/id-in', '//city.example/id-in']) {
      const o = ids.identify(fr);
      expect([o.isThisCse, o.cseId, o.aeId]).toEqual([true, undefined, undefined]);
    }
    expect(ids.identify(undefined)).toMatchObject({ id: '', absolute: '', isAdmin: false });
    expect(ids.identify('Cae1', true).authenticated).toBe(true);
  });
});

describe('a registering type plugs in through its hooks alone', () => {
  let cse: Cse;
  let d: Dispatcher;
  let n = 0;
  const send = (r: Partial<RequestPrimitive>) =>
    d.process({ rqi: `r${++n}`, rvi: '3', op: 2, to: 'cse-in', ...r } as RequestPrimitive);

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cse-hooks-'));
    const config = {
      ...DEFAULTS,
      httpEnabled: false,
      coapEnabled: false,
      mqttEnabled: false,
      dataDir,
      logLevel: 'silent',
    };
    cse = await Cse.start(config, pino({ level: 'silent' }));
    // a stand-in for <remoteCSE>: a container whose CREATE registers a CSE-ID as its originator (ri = the CSE-ID
    // without '/'), with no change to the dispatcher
    const container = cse.tree.types.get(Ty.container)!;
    const registering: ResourceType = {
      ...container,
      registration: {
        registrantRi: (o) => o.cseId?.slice(1),
        assignId(_ctx, o) {
          if (!o.cseId) throw new Error('only a CSE registers');
          return { ri: o.cseId.slice(1), id: o.cseId };
        },
      },
    };
    const types = new Map(cse.tree.types);
    types.set(Ty.container, registering);
    const tree = new ResourceTree(cse.store, cse.tree.schema, config, types, new EventBus());
    d = new Dispatcher(
      { tree, shaper: new ResultShaper(cse.tree.schema, cse.store), config },
      pino({ level: 'silent' }),
    );
  });
  afterAll(() => cse.stop());

  it('an unregistered CSE-ID is 4106; after its registration (without an access check) it is a registered originator', async () => {
    expect((await send({ fr: '/id-mn' })).rsc).toBe(4106);
    const reg = await send({ op: 1, ty: Ty.container, fr: '/id-mn', pc: { 'm2m:cnt': {} } });
    expect(reg.rsc).toBe(2001);
    expect((reg.pc as { 'm2m:cnt': { ri: string; rn: string } })['m2m:cnt']).toMatchObject({
      ri: 'id-mn',
      rn: 'id-mn',
    });
    expect((await send({ fr: '/id-mn' })).rsc).toBe(2000);
    expect((await send({ fr: '//onem2m.local/id-mn', to: 'cse-in/id-mn' })).rsc).toBe(2000); // its creator, any form
    // registering the same ID twice is refused like a duplicate AE registration
    expect((await send({ op: 1, ty: Ty.container, fr: '/id-mn', pc: { 'm2m:cnt': { rn: 'again' } } })).rsc).toBe(4117);
    // the AE type's hooks still hold: a CSE-ID cannot register as an AE
    expect(
      (await send({ op: 1, ty: Ty.AE, fr: '/id-mn', pc: { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } } })).rsc,
    ).toBe(4107);
  });
});

describe('type numbers come from one table', () => {
  const src = new URL('../../src/', import.meta.url).pathname;
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });

  it('no source file compares or sets a resource type by a number literal', () => {
    // `ty === 2`, `ty: 3`, `const AE_TYPE = 2`, `const CONTENT_INSTANCE = 4` (a media type or status code is no type)
    const literal =
      /\b(ty|(?!UNSUPPORTED_MEDIA_|INVALID_CHILD_RESOURCE_)[A-Z_]*_TYPE|AE|CSE_BASE|CONTAINER|CONTENT_INSTANCE|ACP)\s*(===|!==|==|!=|:|=)\s*\d+\b/;
    const offenders = files(src)
      .filter((f) => !f.endsWith('type-numbers.ts'))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line: line.trim(), at: `${f.slice(src.length)}:${i + 1}` }))
          .filter(({ line }) => !line.startsWith('*') && !line.startsWith('//') && literal.test(line)),
      );
    expect(offenders).toEqual([]);
  });

  it('a specs/resources file whose number and name disagree with the table is refused at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'specs-'));
    cpSync(new URL('../../specs/', import.meta.url).pathname, dir, { recursive: true });
    const file = join(dir, 'resources', 'cnt.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"ty": 3', '"ty": 9'));
    expect(() => new SchemaRegistry(dir)).toThrow(/type 9 is 'group'/);
    expect(() => new SchemaRegistry(new URL('../../specs/', import.meta.url).pathname)).not.toThrow();
  });
});

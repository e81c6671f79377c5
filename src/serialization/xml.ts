/**
 * XML serialization (TS-0004 8.3) of the internal JSON data model, driven by the specs/ tables (see shapes.ts).
 *
 * Encoding rules:
 * - one root element, the `m2m:` global element of the content (7.5.2), declaring the namespace
 *   http://www.onem2m.org/xml/protocols with the prefix m2m (6.1, 6.3.5.62, 7.5.2); local elements unprefixed;
 * - resourceName is the XML attribute `rn` of a resource element (6.3.6 Table 6.3.6-2, `@resourceName`); the
 *   XML attributes of simple types with attributes (childResourceRef nm / typ / spid) likewise, with the JSON
 *   `val` member as the element text (8.4.2);
 * - child elements in XSD order = the attribute order of specs/resources/<type>.json, then members the tables
 *   do not know, then childResource references (`ch`), then embedded child resources (rcn 4 / 8) (8.3.1);
 * - xs:list values (labels, acpi, srt, poa, csz, srv, ...) as one element with space-separated items; lists
 *   of complex values repeat the element (8.4.2 read backwards);
 * - NULL as an empty element, whatever the data type (8.3.1);
 * - numbers and booleans as their XSD lexical forms; `con` (xs:anyType) as text: a string as is, any other
 *   JSON value as its JSON text.
 * - whole primitives (TS-0004 8.3.2): root m2m:rqp / m2m:rsp, the parameters as child elements in the order of
 *   specs/primitive.json, typed by specs/types.json; the content (pc, m2m:primitiveContent) holds one root element
 *   (<pc><m2m:cin rn="x">...</m2m:cin></pc>), written and read exactly as that element is as a document.
 * Decoding reverses this, typing text by the same shapes: numbers, booleans (true/false/1/0), lists split on
 * white space; an empty element is null (an empty list or string cannot be told apart from NULL in XML);
 * elements the tables do not describe come back as strings (or objects when they have children), for the
 * validation to reject with 4000. Malformed XML, a DTD (entity expansion) or an undeclared entity -> 4000.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CseError, RSC, badRequest } from '../primitive/status.js';
import type { Codec } from './index.js';
import { GENERIC, SerializationModel, resourceSn, type ObjectShape, type Shape } from './shapes.js';

export const ONEM2M_XML_NAMESPACE = 'http://www.onem2m.org/xml/protocols';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false, // entities are decoded below: only the five predefined ones and character references
  htmlEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  jPath: false, // no callbacks use paths; saves a third of the parse time
});

/** The XML codec; the specs/ tables are read on first use unless a model is given. */
export function createXmlCodec(model?: SerializationModel): Codec {
  let m = model;
  const get = () => (m ??= SerializationModel.load());
  return {
    format: 'xml',
    mediaType: 'application/xml',
    encode: (value) => Buffer.from(new XmlWriter(get()).document(value), 'utf8'),
    decode: (body) => new XmlReader(get()).document(body),
  };
}

// ------------------------------------------------------------------------------------------------ encoding

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const XML_NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

class XmlWriter {
  private out: string[] = [];

  constructor(private readonly model: SerializationModel) {}

  document(value: unknown): string {
    const keys = isObj(value) ? Object.keys(value).filter((k) => value[k] !== undefined) : [];
    if (keys.length !== 1)
      throw new CseError(RSC.INTERNAL_SERVER_ERROR, 'XML content needs exactly one root element (TS-0004 7.5.2)');
    const name = keys[0]!;
    this.out.push('<?xml version="1.0" encoding="UTF-8"?>');
    this.element(name, (value as Obj)[name], this.model.root(name), ` xmlns:m2m="${ONEM2M_XML_NAMESPACE}"`);
    return this.out.join('');
  }

  /** One member: repeated elements for arrays that are not xs:lists, one element otherwise. */
  private member(name: string, value: unknown, shape: Shape) {
    if (value === undefined) return;
    if (Array.isArray(value) && shape.k !== 'list' && shape.k !== 'anyType') {
      // an empty list of repeated elements is no element at all (minOccurs 0)
      const item = shape.k === 'repeat' ? shape.item : shape;
      for (const v of value) this.element(name, v, item);
      return;
    }
    this.element(name, value, shape);
  }

  private element(name: string, value: unknown, shape: Shape, extra = '') {
    if (!XML_NAME.test(name))
      throw new CseError(RSC.INTERNAL_SERVER_ERROR, `'${name}' cannot be serialized as an XML element name`);
    if (shape.k === 'resource') shape = this.model.resource(shape.sn);
    if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
      this.out.push(`<${name}${extra}/>`);
      return;
    }
    if (shape.k === 'anyType') {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      this.out.push(`<${name}${extra}>`, escapeText(text), `</${name}>`);
      return;
    }
    if (shape.k === 'content' && isObj(value)) {
      this.content(name, value, extra);
      return;
    }
    if (Array.isArray(value)) {
      // an xs:list (or a list where the tables expect none): one element, items separated by spaces
      const text = value.map(scalarText).join(' ');
      this.out.push(text ? `<${name}${extra}>${escapeText(text)}</${name}>` : `<${name}${extra}/>`);
      return;
    }
    if (!isObj(value)) {
      this.out.push(`<${name}${extra}>`, escapeText(scalarText(value)), `</${name}>`);
      return;
    }
    this.complex(name, value, shape.k === 'object' ? shape : undefined, extra);
  }

  /** m2m:primitiveContent: each member a root element, written as it is written as a document of its own */
  private content(name: string, value: Obj, extra: string) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) {
      this.out.push(`<${name}${extra}/>`);
      return;
    }
    this.out.push(`<${name}${extra}>`);
    for (const k of keys) this.member(k, value[k], this.model.root(k));
    this.out.push(`</${name}>`);
  }

  private complex(name: string, value: Obj, shape: ObjectShape | undefined, extra: string) {
    let attrs = extra;
    const elements: [string, unknown, Shape][] = [];
    const done = new Set<string>();
    let text: string | undefined;
    if (shape) {
      for (const a of shape.attributes) {
        const v = value[a];
        if (v !== undefined && v !== null && !isObj(v) && !Array.isArray(v)) {
          if (!XML_NAME.test(a)) continue;
          attrs += ` ${a}="${escapeAttribute(scalarText(v))}"`;
          done.add(a);
        }
      }
      if (shape.text && value[shape.text] !== undefined && !isObj(value[shape.text])) {
        text = scalarText(value[shape.text]);
        done.add(shape.text);
      }
      // attributes in XSD order, except ch, which goes with the child resources at the end
      for (const [m, s] of shape.members)
        if (m !== 'ch' && !done.has(m) && value[m] !== undefined) {
          elements.push([m, value[m], s]);
          done.add(m);
        }
    }
    const children: [string, unknown, Shape][] = [];
    for (const [k, v] of Object.entries(value)) {
      if (done.has(k) || v === undefined) continue;
      if (this.model.isResource(k)) children.push([k, v, { k: 'resource', sn: resourceSn(k)! }]);
      else if (k === 'ch' && shape?.members.has('ch')) children.unshift([k, v, shape.members.get('ch')!]);
      else if (k.startsWith('m2m:')) children.push([k, v, GENERIC]);
      else elements.push([k, v, shape?.resources ? this.model.attribute(k) : (shape?.members.get(k) ?? GENERIC)]);
    }
    if (text === undefined && elements.length === 0 && children.length === 0) {
      this.out.push(`<${name}${attrs}/>`);
      return;
    }
    this.out.push(`<${name}${attrs}>`);
    if (text !== undefined) this.out.push(escapeText(text));
    // m2m:rce: the resource, then its URI (TS-0004 6.3.5.25); resources: attributes, then children
    const [first, then] = shape?.resources === 'single' ? [children, elements] : [elements, children];
    for (const [k, v, s] of first) this.member(k, v, s);
    for (const [k, v, s] of then) this.member(k, v, s);
    this.out.push(`</${name}>`);
  }
}

function scalarText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? String(v) : '';
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      return v === null || v === undefined ? '' : JSON.stringify(v);
  }
}

// characters XML 1.0 cannot carry at all (2.2): replaced by U+FFFD
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g; // eslint-disable-line no-control-regex
const TEXT_SPECIAL = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/; // eslint-disable-line no-control-regex
const ATTR_SPECIAL = /[&<>"\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/; // eslint-disable-line no-control-regex

/** Element text: markup characters escaped; CR as a character reference so that line-end handling keeps it. */
export function escapeText(s: string): string {
  if (!TEXT_SPECIAL.test(s)) return s;
  return s
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** Attribute values: also quotes, and TAB / LF / CR as references (attribute-value normalization, XML 3.3.3). */
export function escapeAttribute(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s;
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

// ------------------------------------------------------------------------------------------------ decoding

/** A parsed element: name (the oneM2M namespace prefix normalized to m2m:), attributes, content in order. */
interface XNode {
  name: string;
  attrs: [string, string][];
  elements: XNode[];
  /** text and elements in document order (for xs:anyType content) */
  parts: (XNode | string)[];
  text: string;
}

type RawEntry = Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class XmlReader {
  constructor(private readonly model: SerializationModel) {}

  document(body: Buffer): Obj {
    const root = parseDocument(body);
    const value = this.value(root, this.model.root(root.name), true);
    return put({}, root.name, value);
  }

  /** An element's value per its shape; `root`: a root is never NULL, it is empty instead. */
  private value(node: XNode, shape: Shape, root = false): unknown {
    const attrs = node.attrs;
    if (!root && node.elements.length === 0 && attrs.length === 0 && node.text === '') return null; // 8.3.1
    switch (shape.k) {
      case 'resource':
        return this.object(node, this.model.resource(shape.sn));
      case 'object':
        return this.object(node, shape);
      case 'anyType':
        return node.elements.length ? node.parts.map(serialize).join('') : node.text;
      case 'generic':
        return this.generic(node);
      case 'content':
        return this.content(node);
      case 'repeat':
        return [this.value(node, shape.item)];
      default:
        if (node.elements.length || attrs.length) return this.generic(node);
        return leaf(node.text, shape);
    }
  }

  private object(node: XNode, shape: ObjectShape): Obj {
    const out: Obj = {};
    for (const [a, v] of node.attrs) put(out, a, leaf(v, this.memberShape(shape, a)));
    if (shape.text !== undefined) {
      if (node.elements.length === 0 || node.text.trim() !== '')
        put(out, shape.text, leaf(node.text, shape.members.get(shape.text) ?? GENERIC));
    } else if (node.text.trim() !== '') {
      throw badRequest(`unexpected text '${clip(node.text.trim())}' in <${node.name}>`);
    }
    for (const [name, nodes] of groupByName(node.elements)) {
      if (shape.resources && name.startsWith('m2m:')) {
        // child resources (of any type, known or not) are arrays; the resource of m2m:rce is one
        const rs: Shape = this.model.isResource(name) ? { k: 'resource', sn: resourceSn(name)! } : GENERIC;
        const values = nodes.map((n) => this.value(n, rs, true));
        put(out, name, shape.resources === 'single' && values.length === 1 ? values[0] : values);
        continue;
      }
      put(out, name, this.member(nodes, this.memberShape(shape, name)));
    }
    return out;
  }

  /**
   * m2m:primitiveContent: each child element read as the root of a document of its own; no element and only
   * white space is NULL (no content), text alone stays text (for the validation to reject).
   */
  private content(node: XNode): unknown {
    if (node.attrs.length) throw badRequest(`unexpected attribute '${node.attrs[0]![0]}' on <${node.name}>`);
    if (node.elements.length === 0) return node.text.trim() === '' ? null : node.text;
    if (node.text.trim() !== '') throw badRequest(`unexpected text '${clip(node.text.trim())}' in <${node.name}>`);
    const out: Obj = {};
    for (const [name, nodes] of groupByName(node.elements)) {
      const values = nodes.map((n) => this.value(n, this.model.root(name), true));
      put(out, name, values.length === 1 ? values[0] : values);
    }
    return out;
  }

  private memberShape(shape: ObjectShape, name: string): Shape {
    const s = shape.members.get(name);
    if (s) return s;
    if (this.model.isResource(name)) return { k: 'resource', sn: resourceSn(name)! };
    return shape.resources === 'children' ? this.model.attribute(name) : GENERIC;
  }

  /** All occurrences of one member. */
  private member(nodes: XNode[], shape: Shape): unknown {
    if (shape.k === 'repeat') {
      if (nodes.length === 1 && isEmpty(nodes[0]!)) return null;
      return nodes.map((n) => this.value(n, shape.item));
    }
    if (nodes.length === 1) return this.value(nodes[0]!, shape);
    if (shape.k === 'list') {
      // tolerated: an xs:list sent as repeated elements
      const items: unknown[] = [];
      for (const n of nodes) {
        const v = this.value(n, shape);
        if (Array.isArray(v)) items.push(...(v as unknown[]));
        else if (v !== null) items.push(v);
      }
      return items;
    }
    return nodes.map((n) => this.value(n, shape));
  }

  /** Structure from the document: text -> string, children -> members, repeated children -> arrays. */
  private generic(node: XNode): unknown {
    if (node.elements.length === 0 && node.attrs.length === 0) return node.text === '' ? null : node.text;
    const out: Obj = {};
    for (const [a, v] of node.attrs) put(out, a, v);
    for (const [name, nodes] of groupByName(node.elements)) {
      const shape: Shape = this.model.isResource(name) ? { k: 'resource', sn: resourceSn(name)! } : GENERIC;
      put(out, name, nodes.length === 1 ? this.value(nodes[0]!, shape) : nodes.map((n) => this.value(n, shape)));
    }
    if (node.elements.length === 0 ? node.text !== '' : node.text.trim() !== '') put(out, 'val', node.text);
    return out;
  }
}

function isEmpty(n: XNode): boolean {
  return n.elements.length === 0 && n.attrs.length === 0 && n.text === '';
}

function groupByName(nodes: XNode[]): Map<string, XNode[]> {
  const m = new Map<string, XNode[]>();
  for (const n of nodes) {
    const list = m.get(n.name);
    if (list) list.push(n);
    else m.set(n.name, [n]);
  }
  return m;
}

/** Typed value of a text (element content or attribute value). */
function leaf(text: string, shape: Shape): unknown {
  switch (shape.k) {
    case 'number':
      return toNumber(text.trim()) ?? text;
    case 'boolean': {
      const t = text.trim(); // xs:boolean lexical space: true, false, 1, 0
      return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : text;
    }
    case 'numOrString': {
      const t = text.trim();
      return /^[+-]?\d+$/.test(t) ? Number(t) : text;
    }
    case 'list':
      return text
        .split(/[ \t\n\r]+/)
        .filter((i) => i !== '')
        .map((i) => leaf(i, shape.item));
    case 'repeat':
      return [leaf(text, shape.item)];
    default:
      return text;
  }
}

function toNumber(t: string): number | undefined {
  if (/^[+-]?\d+$/.test(t) || /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  return undefined;
}

/** Sets a member without ever touching a prototype (`__proto__` as a name stays data). */
function put(obj: Obj, key: string, value: unknown): Obj {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
  return obj;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/** Re-serializes element content (xs:anyType with child elements) as XML text. */
function serialize(part: XNode | string): string {
  if (typeof part === 'string') return escapeText(part);
  const attrs = part.attrs.map(([a, v]) => ` ${a}="${escapeAttribute(v)}"`).join('');
  const inner = part.parts.map(serialize).join('');
  return inner ? `<${part.name}${attrs}>${inner}</${part.name}>` : `<${part.name}${attrs}/>`;
}

/** Bytes -> one root element, or 4000 with the reason. */
function parseDocument(body: Buffer): XNode {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest('the content is not valid XML: it is not UTF-8 (TS-0004 8.3.1)');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const decl = /^<\?xml\s[^>]*?encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[1]!))
    throw badRequest(`the XML encoding '${decl[1]}' is not supported: use UTF-8 (TS-0004 8.3.1)`);
  // a DTD is never needed by oneM2M documents; refusing it rules out entity-expansion attacks
  if (/<!DOCTYPE/i.test(prolog(text))) throw badRequest('the content is not accepted: XML with a DTD (<!DOCTYPE)');
  text = text.replace(/\r\n?/g, '\n'); // end-of-line handling (XML 2.11)
  const check = XMLValidator.validate(text);
  if (check !== true) {
    const { msg, line, col } = check.err;
    throw badRequest(`the content is not valid XML: ${msg} (line ${line}${col ? `, column ${col}` : ''})`);
  }
  let raw: RawEntry[];
  try {
    raw = parser.parse(text) as RawEntry[];
  } catch (e) {
    throw badRequest(`the content is not valid XML: ${(e as Error).message}`);
  }
  const roots = raw.map((e) => toNode(e, new Map())).filter((n): n is XNode => typeof n !== 'string');
  if (roots.length !== 1) throw badRequest('the content is not valid XML: it needs exactly one root element');
  return roots[0]!;
}

/** What comes before the root element: declaration, comments, processing instructions, DOCTYPE. */
function prolog(text: string): string {
  const m = /<[A-Za-z_]/.exec(text.replace(/<!--[\s\S]*?-->/g, (c) => ' '.repeat(c.length)));
  return m ? text.slice(0, m.index) : text;
}

function toNode(entry: RawEntry, scope: Map<string, string>): XNode | string {
  if ('#text' in entry) return decodeEntities(String(entry['#text']));
  if ('#cdata' in entry) {
    const inner = entry['#cdata'] as RawEntry[];
    return inner.map((e) => String(e['#text'] ?? '')).join('');
  }
  const tag = Object.keys(entry).find((k) => k !== ':@');
  if (tag === undefined) return '';
  const rawAttrs = (entry[':@'] ?? {}) as Record<string, unknown>;
  let local = scope;
  const attrs: [string, string][] = [];
  for (const [a, v] of Object.entries(rawAttrs)) {
    // attribute-value normalization (XML 3.3.3): literal white space becomes a space, references stay
    const value = decodeEntities(String(v).replace(/[\t\n]/g, ' '));
    if (a.startsWith('xmlns:')) {
      if (local === scope) local = new Map(scope);
      local.set(a.slice(6), value);
    } else if (a !== 'xmlns' && !a.startsWith('xsi:') && !a.startsWith('xml:')) attrs.push([a, value]);
  }
  const parts: (XNode | string)[] = [];
  for (const child of (entry[tag] ?? []) as RawEntry[]) {
    const p = toNode(child, local);
    if (typeof p !== 'string') parts.push(p);
    else if (p !== '') {
      if (typeof parts[parts.length - 1] === 'string') parts[parts.length - 1] += p;
      else parts.push(p);
    }
  }
  const elements = parts.filter((p): p is XNode => typeof p !== 'string');
  const text = parts.filter((p): p is string => typeof p === 'string').join('');
  return { name: qualify(tag, local), attrs, elements, parts, text };
}

/** `x:cnt` with x bound to the oneM2M namespace -> `m2m:cnt`; other names unchanged. */
function qualify(tag: string, scope: Map<string, string>): string {
  const colon = tag.indexOf(':');
  if (colon < 0) return tag;
  const prefix = tag.slice(0, colon);
  return prefix !== 'm2m' && scope.get(prefix) === ONEM2M_XML_NAMESPACE ? `m2m:${tag.slice(colon + 1)}` : tag;
}

const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|([A-Za-z_][\w.-]*));|&/g;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined entities and character references (XML 4.1, 4.6); anything else is not well-formed. */
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (ref, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) {
      const v = Object.hasOwn(PREDEFINED, name) ? PREDEFINED[name] : undefined;
      if (v === undefined) throw badRequest(`the content is not valid XML: undeclared entity '&${name};'`);
      return v;
    }
    if (dec === undefined && hex === undefined) throw badRequest(`the content is not valid XML: a bare '&'`);
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) throw badRequest(`the content is not valid XML: '${ref}' is not a character`);
    return String.fromCodePoint(cp);
  });
}

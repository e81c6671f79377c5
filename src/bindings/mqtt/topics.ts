/**
 * TS-0010 topics: how IDs become topic levels and which topics carry requests and responses.
 *
 * - ID mapping (6.4.2): an SP-relative AE-ID or CSE-ID loses its leading `/` and every further `/` becomes `:`
 *   (`/id-in` -> `id-in`, `/id-in/Cae1` -> `id-in:Cae1`, `Cae1` stays); an absolute ID on Mcc' has its
 *   leading `//` replaced by `:` (`//sp/id-in` -> `:sp:id-in`).
 * - Requests (6.4.2, 6.5.4): `/oneM2M/req/<originator>/<receiver>/<type>`, type json | xml | cbor; answered on
 *   `/oneM2M/resp/<originator>/<receiver>/<type>` (6.4.3), the same originator and receiver order.
 * - Initial registration (6.4.4): `/oneM2M/reg_req/<credential-ID>/<receiver>/<type>`, answered on
 *   `/oneM2M/reg_resp/...`.
 * - A receiver subscribes to `/oneM2M/req/+/<receiver>/#`, an originator to `/oneM2M/resp/<originator>/#`
 *   (6.5.4: the suffix is always used, so the filters end in `#`).
 */
import type { Format } from '../../serialization/index.js';

export const FORMATS: readonly Format[] = ['json', 'xml', 'cbor'];

/** an ID as a topic level (TS-0010 6.4.2) */
export function idToTopic(id: string): string {
  if (id.startsWith('//')) return `:${id.slice(2).replace(/\//g, ':')}`;
  return id.replace(/^\/+/, '').replace(/\//g, ':');
}

/**
 * A topic level back to an ID: `id-in` -> `/id-in` (a CSE-ID), `id-in:Cae1` -> `/id-in/Cae1`, `Cae1` -> `Cae1`
 * (an AE-ID-Stem), `:sp:id-in` -> `//sp/id-in`. Which of `id-in` and `Cae1` is a CSE-ID the topic cannot say:
 * `isCseId` decides (the receiving CSE's own ID, or any ID the caller knows to be one).
 */
export function topicToId(level: string, isCseId: (bare: string) => boolean = () => false): string {
  if (level.startsWith(':')) return `//${level.slice(1).replace(/:/g, '/')}`;
  if (level.includes(':')) return `/${level.replace(/:/g, '/')}`;
  return isCseId(level) ? `/${level}` : level;
}

export type TopicKind = 'req' | 'reg_req' | 'resp' | 'reg_resp';

export interface ParsedTopic {
  kind: TopicKind;
  /** the topic levels as they are, ID-mapped */
  originator: string;
  receiver: string;
  /** undefined when the topic has no type level or one that is not json, xml or cbor */
  format?: Format;
  /** the type level as it came (for a message naming an unknown one) */
  type?: string;
}

const KINDS = new Set<string>(['req', 'reg_req', 'resp', 'reg_resp']);

/**
 * `/oneM2M/<kind>/<originator>/<receiver>[/<type>]` -> its parts; undefined for any other topic (more levels, an
 * empty ID level, another root).
 */
export function parseTopic(topic: string, prefix = ''): ParsedTopic | undefined {
  if (prefix !== '') {
    if (!topic.startsWith(`${prefix}/`)) return undefined;
    topic = topic.slice(prefix.length);
  }
  const levels = topic.split('/');
  // ['', 'oneM2M', kind, originator, receiver, type?]
  if (levels.length < 5 || levels.length > 6 || levels[0] !== '' || levels[1] !== 'oneM2M') return undefined;
  const [, , kind, originator, receiver, type] = levels as [string, string, string, string, string, string?];
  if (!KINDS.has(kind) || originator === '' || receiver === '') return undefined;
  const format = FORMATS.find((f) => f === type);
  return { kind: kind as TopicKind, originator, receiver, ...(format ? { format } : {}), ...(type ? { type } : {}) };
}

/** the topic a message of this kind goes on (levels already ID-mapped) */
export function topicOf(kind: TopicKind, originator: string, receiver: string, format: Format, prefix = ''): string {
  return `${prefix}/oneM2M/${kind}/${originator}/${receiver}/${format}`;
}

/** the response topic of a request topic: req -> resp, reg_req -> reg_resp, same levels (TS-0010 6.4.3, 6.4.4) */
export function responseKind(kind: 'req' | 'reg_req'): 'resp' | 'reg_resp' {
  return kind === 'req' ? 'resp' : 'reg_resp';
}

/**
 * What a CSE subscribes to (TS-0010 6.4.5, 6.5.4): requests to it, registration requests to it, and the answers
 * to the requests it sends. With a shared-subscription group the request filters are shared (`$share/<group>/`,
 * MQTT 5 4.8.2, also offered to 3.1.1 clients by mosquitto, EMQX and HiveMQ), so that each request reaches one
 * process of the group; answers are not shared: each process needs the answers to its own requests.
 */
export function cseFilters(
  cseTopicId: string,
  sharedGroup = '',
  prefix = '',
): { requests: string[]; answers: string[] } {
  const share = sharedGroup === '' ? '' : `$share/${sharedGroup}/`;
  return {
    requests: [`${share}${prefix}/oneM2M/req/+/${cseTopicId}/#`, `${share}${prefix}/oneM2M/reg_req/+/${cseTopicId}/#`],
    answers: [`${prefix}/oneM2M/resp/${cseTopicId}/+/#`],
  };
}

/**
 * Why a topic cannot be published on, or undefined when it can: a Topic Name holds no wildcard (`+`, `#`) and no
 * U+0000, is not empty and is at most 65,535 bytes (MQTT 3.1.1 4.7.1, 4.7.3). A broker disconnects a client that
 * publishes on such a topic, and the client would publish it again on every reconnect.
 */
export function topicNameProblem(topic: string): string | undefined {
  if (topic === '') return 'the topic is empty';
  if (topic.includes('+') || topic.includes('#') || topic.includes('\u0000'))
    return `the topic '${topic}' holds a wildcard (+, #) or NUL (MQTT 3.1.1 4.7.1)`;
  if (Buffer.byteLength(topic) > 65_535) return 'the topic is longer than 65,535 bytes';
  return undefined;
}

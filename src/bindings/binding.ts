/**
 * What every protocol binding offers the CSE (the node-wot ProtocolServer shape), and how one is made: cse.ts
 * builds its bindings from the list in ./index.ts, starts and stops them alike, and advertises in the CSEBase poa
 * what each reports (unless --poa says otherwise).
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { CseConfig } from '../config.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { ProtocolClients } from './client.js';
import type { Serializations } from '../serialization/index.js';

export type BindingName = 'http' | 'coap' | 'mqtt';

export interface ProtocolBinding {
  readonly name: BindingName;
  start(): Promise<void>;
  /** stops accepting, lets in-flight requests finish */
  stop(): Promise<void>;
  /** the bound port (useful with port 0) */
  port(): number;
  /** the URLs other entities reach this binding at (TS-0004 m2m:poaList): valid once started */
  pointOfAccess(): string[];
}

/** What a binding is built from: the one dispatcher, the serializations, its settings and a logger. */
export interface BindingDeps {
  dispatcher: Dispatcher;
  serializations: Serializations;
  config: CseConfig;
  /** the CSE's protocol clients: a binding whose connection also carries requests out lends it to its client */
  clients: ProtocolClients;
  log: Logger;
}

export interface BindingFactory {
  readonly name: BindingName;
  /** whether the configuration asks for this binding */
  enabled(config: CseConfig): boolean;
  create(deps: BindingDeps): ProtocolBinding;
}

/**
 * The addresses a socket bound to `host` can be reached at, as URL hosts: the host itself, or for a wildcard
 * (0.0.0.0, ::) every external IPv4 address of this machine (loopback only when there is none). Behind NAT, in a
 * container or behind a load balancer none of these is what others must use: --poa says that.
 */
export function reachableHosts(host: string): string[] {
  // an IPv6 literal goes in brackets, its zone's '%' escaped (RFC 6874)
  if (host !== '0.0.0.0' && host !== '::' && host !== '')
    return [host.includes(':') && !host.startsWith('[') ? `[${host.replace('%', '%25')}]` : host];
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
  return external.length > 0 ? external : ['127.0.0.1'];
}

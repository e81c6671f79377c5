/**
 * Protocol clients: how the CSE sends a request primitive out (a notification, a forwarded request, a
 * registration at another CSE) and gets the response primitive back. One implementation per URI scheme (the
 * node-wot ProtocolClientFactory shape); `ProtocolClients` picks one by the scheme of the target URL, so the
 * code that sends never knows the transport.
 *
 * A client never throws for what the network does: an unreachable target is rsc 5103 TARGET_NOT_REACHABLE, no
 * answer in time 4008 REQUEST_TIMEOUT, a URL it cannot use 4000, each with a readable m2m:dbg naming the target.
 */
import type { RequestPrimitive, ResponsePrimitive } from '../primitive/primitive.js';
import type { Format } from '../serialization/index.js';

/** TS-0004 6.6.3 */
export const TARGET_NOT_REACHABLE = 5103;

export interface ClientSendOptions {
  /** the serialization of the content (default json) */
  format?: Format;
  /** give up after this long: rsc 4008 (default the client's) */
  timeoutMs?: number;
  /** a JSON Web Token for the target (HTTP: `Authorization: Bearer`) */
  token?: string;
}

export interface ProtocolClient {
  /** the URI schemes this client serves, without ':' (`http`, `https`, `coap`) */
  readonly schemes: readonly string[];
  /**
   * Sends `req` to `url`. When the URL has a path (a notification URI, a pointOfAccess with a path) that path is
   * the target, else the path comes from `req.to` as the binding maps it (TS-0009 6.2.2.1, TS-0008 6.2.2.3).
   */
  send(url: string, req: RequestPrimitive, opts?: ClientSendOptions): Promise<ResponsePrimitive>;
  /** closes sockets and kept-alive connections; requests still in flight end with 5103 */
  close(): Promise<void>;
}

/** The clients of one CSE, by scheme. */
export class ProtocolClients {
  private readonly byScheme = new Map<string, ProtocolClient>();

  constructor(clients: readonly ProtocolClient[]) {
    for (const c of clients) for (const s of c.schemes) this.byScheme.set(s, c);
  }

  /** the client serving a scheme (a binding lends the client of its transport its connection: MQTT) */
  client(scheme: string): ProtocolClient | undefined {
    return this.byScheme.get(scheme);
  }

  /** the schemes a request can be sent to */
  get schemes(): string[] {
    return [...this.byScheme.keys()];
  }

  send(url: string, req: RequestPrimitive, opts?: ClientSendOptions): Promise<ResponsePrimitive> {
    const colon = url.indexOf(':');
    const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : '';
    const client = this.byScheme.get(scheme);
    if (!client)
      return Promise.resolve({
        rsc: TARGET_NOT_REACHABLE,
        rqi: req.rqi,
        pc: {
          'm2m:dbg': `'${url}': no protocol client for ${scheme ? `scheme '${scheme}'` : 'a URL without a scheme'} (supported: ${this.schemes.join(', ')})`,
        },
      });
    return client.send(url, req, opts);
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.byScheme.values())].map((c) => c.close()));
  }
}

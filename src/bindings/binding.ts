/** What every protocol binding offers the CSE (the node-wot ProtocolServer shape). */
export interface ProtocolBinding {
  readonly name: 'http' | 'coap' | 'mqtt';
  start(): Promise<void>;
  /** stops accepting, lets in-flight requests finish */
  stop(): Promise<void>;
  /** the bound port (useful with port 0) */
  port(): number;
}

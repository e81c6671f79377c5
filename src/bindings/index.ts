/**
 * The protocol bindings of a CSE, one factory each: cse.ts builds those the configuration enables, in this order.
 * A new binding (WebSocket) is one module and one entry here.
 */
import { readFileSync } from 'node:fs';
import type { BindingFactory } from './binding.js';
import { CoapBinding } from './coap/server.js';
import { HttpBinding } from './http/server.js';
import { MqttBinding } from './mqtt/server.js';

export const BINDINGS: readonly BindingFactory[] = [
  {
    name: 'http',
    enabled: (c) => c.httpEnabled,
    create: ({ dispatcher, serializations, config: c, log }) =>
      new HttpBinding(
        dispatcher,
        serializations,
        {
          port: c.httpPort,
          host: c.httpHost,
          maxRequestBytes: c.maxRequestBytes,
          requestTimeoutMs: c.httpRequestTimeoutMs,
          ...(c.tlsCert ? { tls: { cert: readFileSync(c.tlsCert), key: readFileSync(c.tlsKey) } } : {}),
        },
        log,
      ),
  },
  {
    name: 'coap',
    enabled: (c) => c.coapEnabled,
    create: ({ dispatcher, serializations, config: c, log }) =>
      new CoapBinding(
        dispatcher,
        serializations,
        { port: c.coapPort, host: c.coapHost, maxRequestBytes: c.maxRequestBytes },
        log,
      ),
  },
  {
    name: 'mqtt',
    enabled: (c) => c.mqttEnabled,
    create: ({ dispatcher, serializations, config, clients, log }) =>
      new MqttBinding(dispatcher, serializations, config, clients, log),
  },
];

/**
 * A closed-loop MQTT load generator: `requesters` oneM2M originators, each with one request outstanding (the next
 * is published as soon as the previous one's answer arrived), spread over `connections` MQTT client connections
 * (requester k on connection k % connections). The connections are the CSE binding's own `MqttConnection`
 * (MQTT.js, MQTT 3.1.1, TCP_NODELAY, clean session here), so the generator pays MQTT.js's cost per message.
 *
 * Why distinct originators: the CSE executes the requests of one topic (one originator, one serialization) one
 * after the other (docs/bindings.md, "Order"), so concurrency over MQTT comes from distinct topics only. Requester
 * k publishes on `/oneM2M/req/<originator k>/<cse>/json` with QoS 1 and subscribes (QoS 1) to exactly its answer
 * topic `/oneM2M/resp/<originator k>/<cse>/json` on its own connection, so that the broker delivers each answer
 * once, to that connection only.
 *
 * Each request is a whole JSON request primitive, built as `head + rqi + tail` around a unique rqi (`<k>-<n>`):
 * the CSE keeps the answer of every request by originator and rqi for a minute (to answer a redelivered DUP
 * again), so unique rqis give it the work a real peer gives it. An answer is parsed just enough: `rsc` and `rqi`
 * at its start, as the CSE writes them (`{"rsc":2001,"rqi":"..."`), else the whole JSON. Its rqi must be the one
 * outstanding on its topic (a stray answer is counted and ignored). An answer with another rsc than `expectRsc`,
 * a publish the broker did not acknowledge, and a request unanswered within `timeoutMs` are errors.
 *
 * Latency is the time from the publish call to the answer's arrival (the `message` event), in loadgen.ts's
 * histogram. The run is a warm-up, the measured window, then a drain of the requests in flight (not counted),
 * like loadgen.ts.
 */
import { pino } from 'pino';
import { MqttConnection } from '../src/bindings/mqtt/connection.js';
import { BUCKETS, bucketOf, percentile } from './loadgen.js';

export interface MqttRequesterSpec {
  /** the topic's originator level (an AE-ID-Stem such as `Cbench0` maps to itself) */
  originator: string;
  /** the request primitive's serialization before and after its rqi's value */
  head: string;
  tail: string;
}

export interface MqttLoadOptions {
  /** the broker: mqtt://host:port */
  url: string;
  /** the CSE's topic level (`id-in` for /id-in) */
  receiver: string;
  /** MQTT client connections of the generator */
  connections: number;
  requesters: MqttRequesterSpec[];
  /** seconds measured */
  duration: number;
  /** seconds of load before the measured window (default 0.5) */
  warmup?: number;
  /** the rsc of a success */
  expectRsc: number;
  /** a request unanswered this long counts as an error and its requester goes on (default 10 s) */
  timeoutMs?: number;
  /** called at the measured window's exact start and end (for CPU readings) */
  onStart?: () => void;
  onEnd?: () => void;
}

export interface MqttLoadResult {
  /** answers completed in the measured window */
  requests: number;
  seconds: number;
  rps: number;
  /** publish-to-answer latency percentiles, ms */
  p50: number;
  p99: number;
  /** answers with another rsc, unacknowledged publishes, timeouts (all in the window) */
  errors: number;
  timeouts: number;
  publishErrors: number;
  /** answers that matched no outstanding request (e.g. after a timeout), whole run */
  stray: number;
  /** count per rsc, in the window */
  rscs: Record<number, number>;
}

const quiet = pino({ level: 'silent' });
const ANSWER_HEAD = /^\{"rsc":(\d+),"rqi":"([^"\\]*)"/;

/** rsc and rqi of a JSON response primitive (undefined when it is none) */
function parseAnswer(payload: Buffer): { rsc: number; rqi: string } | undefined {
  const m = ANSWER_HEAD.exec(payload.toString('latin1', 0, Math.min(payload.length, 128)));
  if (m) return { rsc: Number(m[1]), rqi: m[2]! };
  try {
    const o = JSON.parse(payload.toString('utf8')) as { rsc?: unknown; rqi?: unknown };
    return typeof o.rsc === 'number' && typeof o.rqi === 'string' ? { rsc: o.rsc, rqi: o.rqi } : undefined;
  } catch {
    return undefined;
  }
}

export async function mqttLoad(opts: MqttLoadOptions): Promise<MqttLoadResult> {
  const warmup = opts.warmup ?? 0.5;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const hist = new Uint32Array(BUCKETS);
  const rscs = new Map<number, number>();
  let recording = false;
  let running = true;
  let completed = 0;
  let errors = 0;
  let timeouts = 0;
  let publishErrors = 0;
  let stray = 0;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const conns = Array.from(
    { length: opts.connections },
    (_, c) =>
      new MqttConnection({
        url: opts.url,
        clientId: `bench-${process.pid}-${c}-${Math.random().toString(36).slice(2, 8)}`,
        clean: true,
        connectTimeoutMs: 10_000,
        log: quiet,
      }),
  );

  class Requester {
    readonly topic: string;
    readonly answerTopic: string;
    private n = 0;
    /** the rqi outstanding, or '' */
    pending = '';
    sentAt = 0n;

    constructor(
      readonly k: number,
      readonly spec: MqttRequesterSpec,
      readonly conn: MqttConnection,
    ) {
      this.topic = `/oneM2M/req/${spec.originator}/${opts.receiver}/json`;
      this.answerTopic = `/oneM2M/resp/${spec.originator}/${opts.receiver}/json`;
    }

    send() {
      if (!running) {
        checkDrained();
        return;
      }
      const rqi = `${this.k}-${this.n++}`;
      this.pending = rqi;
      inFlight++;
      this.sentAt = process.hrtime.bigint();
      this.conn.publish(this.topic, Buffer.from(this.spec.head + rqi + this.spec.tail)).catch(() => {
        // not acknowledged by the broker (the connection closed): the answer may still come, or the timeout ends it
        if (recording) {
          publishErrors++;
          errors++;
        }
      });
    }

    answer(payload: Buffer) {
      const a = parseAnswer(payload);
      if (!a || a.rqi !== this.pending) {
        stray++;
        return;
      }
      this.finish(a.rsc);
    }

    finish(rsc: number) {
      const now = process.hrtime.bigint();
      this.pending = '';
      inFlight--;
      if (recording) {
        completed++;
        rscs.set(rsc, (rscs.get(rsc) ?? 0) + 1);
        if (rsc !== opts.expectRsc) errors++;
        hist[bucketOf(Number(now - this.sentAt) / 1000)]!++;
      }
      this.send();
    }

    /** a request outstanding for too long: an error, and the requester goes on */
    expire(now: bigint) {
      if (this.pending === '' || Number(now - this.sentAt) / 1e6 < timeoutMs) return;
      this.pending = '';
      inFlight--;
      if (recording) {
        timeouts++;
        errors++;
      }
      this.send();
    }
  }

  const requesters = opts.requesters.map((spec, k) => new Requester(k, spec, conns[k % conns.length]!));
  const byTopic = new Map(requesters.map((r) => [r.answerTopic, r]));
  for (const conn of conns)
    conn.onMessage((topic, payload) => {
      const r = byTopic.get(topic);
      if (r) r.answer(payload);
      else stray++;
    });

  const checkDrained = () => {
    if (!running && inFlight === 0 && drained) drained();
  };

  try {
    await Promise.all(conns.map((c) => c.start()));
    await Promise.all(
      conns.map((c) => {
        const mine = requesters.filter((r) => r.conn === c).map((r) => r.answerTopic);
        return mine.length ? c.subscribe(mine) : undefined;
      }),
    );
    const watchdog = setInterval(() => {
      const now = process.hrtime.bigint();
      for (const r of requesters) r.expire(now);
    }, 250);
    let t0 = 0n;
    let t1 = 0n;
    try {
      for (const r of requesters) r.send();
      await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
      hist.fill(0);
      rscs.clear();
      completed = errors = timeouts = publishErrors = 0;
      opts.onStart?.();
      t0 = process.hrtime.bigint();
      recording = true;
      await new Promise((resolve) => setTimeout(resolve, opts.duration * 1000));
      t1 = process.hrtime.bigint();
      recording = false;
      running = false;
      opts.onEnd?.();
      // the requests still in flight finish (uncounted) before the connections close
      await new Promise<void>((resolve) => {
        const giveUp = setTimeout(resolve, 5000);
        drained = () => {
          clearTimeout(giveUp);
          resolve();
        };
        checkDrained();
      });
    } finally {
      clearInterval(watchdog);
    }
    const seconds = Number(t1 - t0) / 1e9;
    return {
      requests: completed,
      seconds,
      rps: completed / seconds,
      p50: percentile(hist, completed, 0.5),
      p99: percentile(hist, completed, 0.99),
      errors,
      timeouts,
      publishErrors,
      stray,
      rscs: Object.fromEntries(rscs),
    };
  } finally {
    running = false;
    await Promise.all(conns.map((c) => c.close(500).catch(() => undefined)));
  }
}

/**
 * The one internal request/response primitive (TS-0004 6.4). Every binding maps its transport to a
 * RequestPrimitive and a ResponsePrimitive back; nothing past the bindings sees HTTP, CoAP or MQTT.
 * Field names are the TS-0004 8.2.2 short names so that the primitive serializes as-is (MQTT, WebSocket).
 */

/** TS-0004 6.3.4.2.5 m2m:operation */
export const Operation = { Create: 1, Retrieve: 2, Update: 3, Delete: 4, Notify: 5 } as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

/** TS-0004 6.3.4.2.7 m2m:resultContent */
export const ResultContent = {
  Nothing: 0,
  Attributes: 1,
  HierarchicalAddress: 2,
  HierarchicalAddressAndAttributes: 3,
  AttributesAndChildResources: 4,
  AttributesAndChildResourceReferences: 5,
  ChildResourceReferences: 6,
  OriginalResource: 7,
  ChildResources: 8,
  ModifiedAttributes: 9,
  SemanticContent: 10,
  DiscoveryResultReferences: 11,
} as const;
export type ResultContent = (typeof ResultContent)[keyof typeof ResultContent];

/** TS-0004 6.3.4.2.2 m2m:desIdResType */
export const DesiredIdResultType = { Structured: 1, Unstructured: 2 } as const;

/** TS-0004 6.3.5.8 m2m:filterCriteria (short names); src/discovery/criteria.ts gives them their meaning. */
export interface FilterCriteria {
  crb?: string;
  cra?: string;
  ms?: string;
  us?: string;
  sts?: number;
  stb?: number;
  exb?: string;
  exa?: string;
  lbl?: string[];
  clbl?: string[];
  palb?: string[];
  /** labelsQuery: one expression (TS-0004 6.3.5.8), or several (any matches) when the parameter is repeated */
  lbq?: string | string[];
  ty?: number[];
  chty?: number[];
  pty?: number[];
  sza?: number;
  szb?: number;
  cty?: string[];
  atr?: { nm: string; val: unknown }[];
  catr?: { nm: string; val: unknown }[];
  patr?: { nm: string; val: unknown }[];
  fu?: number;
  lim?: number;
  lvl?: number;
  ofst?: number;
  arp?: string;
  fo?: number;
  cfs?: number;
  cfq?: string;
  smf?: string;
}

/** m2m:responseTypeInfo */
export interface ResponseTypeInfo {
  rtv: number;
  nu?: string[];
}

export interface RequestPrimitive {
  op: Operation;
  to: string;
  fr?: string;
  rqi: string;
  ty?: number;
  pc?: Record<string, unknown>;
  rids?: string[];
  ot?: string;
  rqet?: string;
  rset?: string;
  oet?: string;
  rt?: ResponseTypeInfo;
  rp?: string;
  rcn?: number;
  ec?: number;
  da?: boolean;
  gid?: string;
  fc?: FilterCriteria;
  drt?: number;
  tkns?: string[];
  tids?: string[];
  ltids?: string[];
  tqi?: boolean;
  sqi?: boolean;
  rvi?: string;
  vsi?: string;
  /** attribute list of a partial retrieve (TS-0004 7.3.3.6: `#attr` fragment, `atrl` query or pc m2m:atrl) */
  atrl?: string[];
}

export interface ResponsePrimitive {
  rsc: number;
  rqi: string;
  pc?: unknown;
  to?: string;
  fr?: string;
  ot?: string;
  rset?: string;
  ec?: number;
  rvi?: string;
  vsi?: string;
  /** content status: 1 partial, 2 full (TS-0004 6.3.4.2.44) */
  cnst?: number;
  /** content offset */
  cnot?: number;
  /** not a primitive parameter: the location of a created resource, for HTTP Content-Location / CoAP Location-Path */
  location?: string;
}

/** What a binding knows about the transport that the dispatcher needs for access control (TS-0003 7.1.2). */
export interface RequestContext {
  binding: 'http' | 'coap' | 'mqtt' | 'internal';
  /** the peer's IP address (rq_ip, matched against acip) */
  remoteAddress?: string;
  /** a token the transport carried outside the primitive: HTTP `Authorization: Bearer <jwt>` */
  token?: string;
  /**
   * the request repeats one the binding has already handed over for the same client request: CoAP runs a GET
   * again for each later Block2 block (RFC 7959 2.4), so that each block passes the access decision. It is
   * processed in full, but it is not another RETRIEVE for the events (retrievedEmpty is raised once)
   */
  repeated?: boolean;
  /**
   * aborted when the client has gone before its answer (its connection closed): a request held open (a long
   * poll) stops waiting, and takes nothing it could no longer hand over
   */
  signal?: AbortSignal;
  /**
   * set by the dispatcher: this answer cannot be produced again (a RETRIEVE that took one of a contentInstance's
   * deletionCnt), so a binding that serves it in parts keeps it rather than running the request again
   */
  unrepeatable?: boolean;
}

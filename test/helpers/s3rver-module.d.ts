/** The little of s3rver (a development dependency, shipped without types) that test/helpers/s3rver.ts uses. */
declare module 's3rver' {
  /** The Koa context s3rver's middleware receives, as far as our middleware reads it. */
  export interface S3rverContext {
    method: string
    path: string
    url: string
    query: Record<string, string | string[] | undefined>
    headers: Record<string, string | string[] | undefined>
    status: number
    body: unknown
  }
  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>

  export default class S3rver {
    constructor(options: { address: string; port: number; directory: string; silent: boolean })
    /** Koa's middleware list, composed when run() starts listening. */
    middleware: S3rverMiddleware[]
    run(): Promise<{ address: string; port: number }>
    close(): Promise<void>
  }
}

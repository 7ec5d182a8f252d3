import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { CurrentUser } from '../types.js'

/**
 * One kind of work that waits for a reader on the dashboard (access requests to decide; later searches to
 * check, submissions to approve, assessments due). Each area registers its own from its own folder with
 * `app.addWorkItem`; the dashboard imports none of them.
 */
export interface WorkItem {
  /** Orders the queue, smallest first. */
  order: number
  /** Whether this reader may do this work at all (an item they may not act on is not shown). */
  shownTo(user: CurrentUser): boolean
  /** How many wait for this reader now. */
  count(request: FastifyRequest, user: CurrentUser): Promise<number>
  /** The sentence for a count ("2 access requests to decide"), and where the work is done. */
  label(count: number): string
  href: string
}

declare module 'fastify' {
  interface FastifyInstance {
    addWorkItem(item: WorkItem): void
    /** The reader's queue: each item they may act on, with its count (zero included). */
    workQueue(request: FastifyRequest, user: CurrentUser): Promise<{ label: string; href: string; count: number }[]>
  }
}

export default fp(
  async (app) => {
    const items: WorkItem[] = []
    app.decorate('addWorkItem', (item: WorkItem) => {
      items.push(item)
      items.sort((a, b) => a.order - b.order)
    })
    app.decorate('workQueue', async (request: FastifyRequest, user: CurrentUser) =>
      Promise.all(
        items
          .filter((item) => item.shownTo(user))
          .map(async (item) => {
            const count = await item.count(request, user)
            return { label: item.label(count), href: item.href, count }
          }),
      ),
    )
  },
  { name: 'work-queue' },
)

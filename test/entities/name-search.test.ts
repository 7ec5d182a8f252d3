import t from 'tap'
import { containsPattern } from '../../src/db/knex.js'
import { nameSearch, trigramFrequencies } from '../../src/entities/name-search.js'
import { testApp, Visitor } from '../helpers/app.js'
import { anEntity, initialiseSharing } from '../helpers/entities.js'
import { aUser, clientAccessOn, PASSWORD, twoCompanies } from '../helpers/factories.js'

/** Each listed row's client id and whether it is listed with access (a link to its page) or without. */
const listed = (html: string) =>
  [...html.matchAll(/<tr( class="no-access")?>\s*<th scope="row">[\s\S]*?\/entities\/([0-9a-f-]{36})/g)].map(
    (m) => `${m[2]}${m[1] ? ' no access' : ''}`,
  )
const link = (html: string, rel: 'next' | 'prev') =>
  [...html.matchAll(/href="([^"]+)" rel="(next|prev)"/g)].find((m) => m[2] === rel)?.[1]?.replaceAll('&amp;', '&')

/** Every page of a list, following Next from `url`, then every page again following Previous from the last. */
async function allPages(v: Visitor, url: string): Promise<{ forward: string[]; backward: string[] }> {
  const pages: string[][] = []
  let html = ''
  for (let next: string | undefined = url; next; next = link(html, 'next')) {
    const page = await v.get(next)
    if (page.statusCode !== 200) throw new Error(`${next} answered ${page.statusCode}`)
    html = page.body
    pages.push(listed(html))
    if (pages.length > 20) throw new Error('more pages than clients')
  }
  const backward: string[][] = [pages.at(-1) as string[]]
  for (let prev = link(html, 'prev'); prev; prev = link(html, 'prev')) {
    html = (await v.get(prev)).body
    backward.unshift(listed(html))
  }
  return { forward: pages.flat(), backward: backward.flat() }
}

t.test('nameSearch: the rarest trigram of a term of three characters or more; a shorter term is scanned', async (t) => {
  t.same(nameSearch('ab'), { by: 'scan', pattern: '%ab%' })
  t.same(nameSearch('A_%'), { by: 'trigram', trigram: 'a_%', offset: 0, term: 'a_%' })
  t.same(nameSearch('🦊🦊🦊x'), { by: 'trigram', trigram: '🦊🦊🦊', offset: 0, term: '🦊🦊🦊x' }, 'in characters')
  const common: Record<string, number> = { kes: 0.12, est: 0.2, 'l t': 0.02, tra: 0.17 }
  const frequency = (trigram: string) => common[trigram] ?? 0.3
  t.same(nameSearch('Kestrel Trading', frequency), {
    by: 'trigram',
    trigram: 'l t',
    offset: 6,
    term: 'kestrel trading',
  })
  t.same(
    nameSearch('Kestrel Tr', (trigram) => common[trigram] ?? 0),
    { by: 'trigram', trigram: 'str', offset: 2, term: 'kestrel tr' },
    'a trigram not known to be common counts as rare',
  )
})

t.test('a name search lists exactly the clients whose names contain the term, in the same order as LIKE', async (t) => {
  const { app, db } = await testApp(t)
  const { company, other, admin, foreigner } = await twoCompanies(db)
  await clientAccessOn(db, company)
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })

  const firsts = ['Kestrel', 'Harbour', 'Zoë', 'Ünal', 'שלום', '东方']
  const seconds = ['Trading', 'Holdings', 'Trading Trading']
  const clients: { id: string; name: string }[] = []
  for (let i = 0; i < 150; i++) {
    const name = `${firsts[i % firsts.length]} ${seconds[i % seconds.length]} ${i}`
    clients.push(await anEntity(db, { company, owner: admin, name, status: i % 2 ? 'prospect' : 'serviced_client' }))
  }
  for (const name of [
    '50% Owned_Co',
    'Back\\slash Ltd',
    'a_b Partners',
    'A%B Partners',
    'Fox 🦊 Den',
    'ÅSA Trading',
    'International Consolidated Holdings of the Northern Hemisphere Limited',
    'International Consolidated Holdings of the Northern Lights',
    'International Consolidated Holdings of the Southern Seas',
  ]) {
    clients.push(await anEntity(db, { company, owner: admin, name }))
  }
  // The suffixes follow every change of a name and of the recycle bin, in the transaction of the change.
  await anEntity(db, { company, owner: admin, name: 'Kestrel Trading in the bin', deleted: true })
  const renamed = await anEntity(db, { company, owner: admin, name: 'Old Name Trading' })
  await db('entities').where({ id: renamed.id }).update({ name: 'New Name Corp' })
  const restored = await anEntity(db, { company, owner: admin, name: 'Restored Kestrel Trading', deleted: true })
  await db('entities').where({ id: restored.id }).update({ deleted_at: null })
  const binned = await anEntity(db, { company, owner: admin, name: 'Binned Kestrel Trading' })
  await db('entities').where({ id: binned.id }).update({ deleted_at: db.fn.now() })
  const purged = await anEntity(db, { company, owner: admin, name: 'Purged Kestrel Trading' })
  await db('entities').where({ id: purged.id }).delete()
  await anEntity(db, { company: other, owner: foreigner, name: 'Kestrel Trading of Beta' })
  // The reader has access to a few (shared with them), not to the rest.
  const shared = clients.filter((_, i) => i % 7 === 0)
  await initialiseSharing(db, ...clients)
  await db('client_shares').insert(shared.map((c) => ({ company_id: company.id, entity_id: c.id, user_id: reader.id })))
  const sharedIds = new Set(shared.map((c) => c.id))

  const expected = async (term: string, opts: { status?: string; reader?: boolean } = {}) => {
    const rows = await db('entities')
      .where({ company_id: company.id })
      .whereNull('deleted_at')
      .whereRaw('lower(name) LIKE ?', [containsPattern(term.toLowerCase())])
      .modify((q) => (opts.status ? q.where({ status: opts.status }) : q))
      .modify((q) => (opts.status && opts.reader ? q.whereIn('id', [...sharedIds]) : q))
      .orderByRaw('lower(name), id')
      .select('id')
    return rows.map((r: { id: string }) => (opts.reader && !sharedIds.has(r.id) ? `${r.id} no access` : r.id))
  }

  const terms = [
    'kestrel trading',
    'TRADING',
    'trading trading',
    'ing',
    'zoë',
    'ünal',
    'שלום',
    '东方',
    '🦊',
    'fox 🦊',
    '50%',
    '_co',
    'a_b',
    'a%b',
    'k\\slash',
    'k\\s',
    '%',
    '_',
    'ab',
    'e',
    'international consolidated holdings of the northern',
    'international consolidated holdings of the north',
    'consolidated holdings of the southern seas',
    'name',
    'old name',
    'new name',
    'restored',
    'bin',
    'purged',
    'no such name',
  ]
  /** The rows of the term's trigram at `offset` that pass the search's test, as the list reads them. */
  const byTrigramAt = async (term: string, offset: number) => {
    const lower = term.toLowerCase()
    const rows = await db('entity_name_trigrams')
      .where({
        company_id: company.id,
        trigram: Array.from(lower)
          .slice(offset, offset + 3)
          .join(''),
      })
      .whereRaw('strpos(sort_key, ?) = pos - ? AND pos > ?', [lower, offset, offset])
      .orderByRaw('sort_key, entity_id')
      .select('entity_id')
    return rows.map((r: { entity_id: string }) => r.entity_id)
  }

  const admins = new Visitor(app)
  await admins.login(admin.email, PASSWORD)
  const readers = new Visitor(app)
  await readers.login(reader.email, PASSWORD)
  let compared = 0
  for (const term of terms) {
    const want = await expected(term)
    const q = encodeURIComponent(term)
    const got = await allPages(admins, `/entities?q=${q}`)
    t.same(got.forward, want, `“${term}”: every match, in order, page by page`)
    t.same(got.backward, want, `“${term}”: the same, paging back`)
    const asReader = await allPages(readers, `/entities?q=${q}`)
    t.same(asReader.forward, await expected(term, { reader: true }), `“${term}” for a reader: names, access marked`)
    t.same(asReader.backward, await expected(term, { reader: true }), `“${term}” for a reader, paging back`)
    const filtered = await allPages(readers, `/entities?q=${q}&status=prospect`)
    t.same(
      filtered.forward,
      await expected(term, { status: 'prospect', reader: true }),
      `“${term}” with a filter: only clients the reader has access to`,
    )
    for (let offset = 0; offset + 3 <= Array.from(term).length; offset++) {
      const through = await byTrigramAt(term, offset)
      if (!t.same(through, want, `“${term}” through its trigram at ${offset}`)) break
    }
    compared += want.length
  }
  // With PostgreSQL's statistics read, searches take the rarest trigram, and answer the same.
  await db.raw('ANALYZE entity_name_trigrams')
  await trigramFrequencies(db).read()
  for (const term of ['kestrel trading', 'trading trading', 'international consolidated holdings of the north']) {
    t.same((await allPages(admins, `/entities?q=${encodeURIComponent(term)}`)).forward, await expected(term))
  }
  t.ok(compared > 450, `${compared} matches compared`)
  t.ok((await expected('ing')).length > 100, 'a term on more than two pages')
})

const range = (html: string) =>
  /<p class="list-range">([^<]*(?:<bdi>[^<]*<\/bdi>[^<]*)?)<\/p>/.exec(html)?.[1]?.replace(/<\/?bdi>/g, '')

t.test('the list says which rows a page shows, of how many, as clients come and go', async (t) => {
  const { app, db } = await testApp(t)
  const { company, admin } = await twoCompanies(db)
  await clientAccessOn(db, company)
  const reader = await aUser(db, { company, name: 'Rui Reader', permissions: ['read_data'] })
  // 1,200 clients in one statement (the count's trigger counts a bulk insert once).
  await db.raw(
    `INSERT INTO entities (company_id, kind, name, owner_user_id, status)
     SELECT ?, 'organisation', 'Client ' || lpad(g::text, 4, '0') || CASE WHEN g % 4 = 0 THEN ' Trading' ELSE '' END, ?,
            CASE WHEN g <= 30 THEN 'former_client' ELSE 'prospect' END
     FROM generate_series(1, 1200) g`,
    [company.id, admin.id],
  )
  const v = new Visitor(app)
  await v.login(admin.email, PASSWORD)
  const first = await v.get('/entities')
  t.equal(range(first.body), '1–50 of 1,200 client relationships.')
  const second = await v.get(link(first.body, 'next') as string)
  t.equal(range(second.body), '51–100 of 1,200 client relationships.')
  const third = await v.get(link(second.body, 'next') as string)
  t.equal(range(third.body), '101–150 of 1,200 client relationships.')
  const back = await v.get(link(third.body, 'prev') as string)
  t.equal(range(back.body), '51–100 of 1,200 client relationships.', 'paging back')
  t.equal(range((await v.get(link(back.body, 'prev') as string)).body), '1–50 of 1,200 client relationships.')

  t.equal(
    range((await v.get('/entities?q=trading')).body),
    '1–50 of 300 client relationships, names containing “trading”.',
  )
  t.equal(
    range((await v.get('/entities?q=client')).body),
    '1–50 of more than 500 client relationships, names containing “client”.',
  )
  t.equal(range((await v.get('/entities?status=former_client')).body), '30 client relationships.')
  t.equal(
    range((await v.get('/entities?q=client%200007')).body),
    '1 client relationship, names containing “client 0007”.',
  )
  const lastChanged = await v.get('/entities?sort=changed')
  t.equal(
    range(lastChanged.body),
    '1–50 of more than 500 client relationships.',
    'a filter or sort is counted up to 500',
  )

  // The reader sees every name (without access to most): the same count.
  const r = new Visitor(app)
  await r.login(reader.email, PASSWORD)
  t.equal(range((await r.get('/entities')).body), '1–50 of 1,200 client relationships.')
  t.match(
    (await r.get('/entities?sort=changed')).body,
    'No client relationship matches',
    'by last change, only accessible ones',
  )

  // To the recycle bin, back, and for good: the count follows, in the transaction of the change.
  const [one, two] = await db('entities').where({ company_id: company.id }).orderBy('name').limit(2).select('id')
  await db('entities').whereIn('id', [one.id, two.id]).update({ deleted_at: db.fn.now() })
  t.equal(range((await v.get('/entities')).body), '1–50 of 1,198 client relationships.')
  await db('entities').where({ id: one.id }).update({ deleted_at: null })
  await db('entities').where({ id: two.id }).delete()
  t.equal(range((await v.get('/entities')).body), '1–50 of 1,199 client relationships.')
  const [{ live }] = await db('client_counts').where({ company_id: company.id }).select('live')
  const counted = await db('entities').where({ company_id: company.id }).whereNull('deleted_at').count('* as n')
  t.equal(live, Number(counted[0]?.n), 'the kept count is the count')
})

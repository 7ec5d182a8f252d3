/**
 * Every read-modify-write that two people can do at once, raced: two and four requests sent together, many
 * rounds, and the database must end as if they had run one after the other (issue 10, point 2).
 */
import t from 'tap'
import { testApp, Visitor, visibleText } from '../helpers/app.js'
import { anEntity, changeEntity, entityVersion, initialiseSharing } from '../helpers/entities.js'
import {
  aCompany,
  aGroup,
  aUser,
  clientAccessOn,
  emptyGroup,
  grant,
  PASSWORD,
  revokeAll,
} from '../helpers/factories.js'

const ROUNDS = 6

async function signedIn(app: Visitor['app'], email: string, page: string) {
  const v = new Visitor(app)
  await v.login(email, PASSWORD)
  await v.get(page)
  return v
}

const toggle = (v: Visitor, userId: string, key: string, on: boolean) =>
  v.request({
    method: 'POST',
    url: `/settings/users/${userId}/permissions/${key}`,
    payload: on ? 'on=1' : '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true', 'x-csrf-token': v.csrfToken },
  })

t.test('permission toggles: no update is lost and no revocation is undone', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const one = await aUser(db, { company, permissions: ['system_administrator'] })
  const two = await aUser(db, { company, permissions: ['system_administrator'] })
  const nora = await aUser(db, { company, name: 'Nora', permissions: ['edit_entities'] })
  const a = await signedIn(app, one.email, `/settings/users/${nora.id}/permissions`)
  const b = await signedIn(app, two.email, `/settings/users/${nora.id}/permissions`)
  const granted = async () =>
    (await db('user_permissions').where({ user_id: nora.id }).orderBy('permission')).map((r) => r.permission)

  for (let round = 0; round < ROUNDS; round++) {
    await revokeAll(db, nora)
    await grant(db, nora, ['edit_entities'])
    const [off, on] = await Promise.all([
      toggle(a, nora.id, 'edit_entities', false),
      toggle(b, nora.id, 'signout_users', true),
    ])
    t.same([off.statusCode, on.statusCode], [200, 200], `round ${round}: both answered`)
    t.same(await granted(), ['signout_users'], `round ${round}: Edit Entities stays off, Signout Users is on`)
  }

  for (let round = 0; round < ROUNDS; round++) {
    await revokeAll(db, nora)
    const keys = ['upload_entity_documents', 'download_entity_documents', 'signout_users', 'view_reports']
    const answers = await Promise.all(keys.map((key, i) => toggle(i % 2 ? a : b, nora.id, key, true)))
    t.same(
      answers.map((r) => r.statusCode),
      [200, 200, 200, 200],
    )
    t.same(await granted(), [...keys].sort(), `round ${round}: four racing grants are all kept`)
  }
  const audited = await db('audit_log').where({ action: 'user.permissions_changed', target_id: nora.id })
  t.equal(audited.length, ROUNDS * 2 + ROUNDS * 4, 'one audit row per change, each with its own before and after')
})

t.test('the last administrator cannot be removed by two administrators at once', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const one = await aUser(db, { company, permissions: ['system_administrator'] })
  const two = await aUser(db, { company, permissions: ['system_administrator'] })
  const a = await signedIn(app, one.email, `/settings/users/${two.id}/permissions`)
  const b = await signedIn(app, two.email, `/settings/users/${one.id}/permissions`)
  const [x, y] = await Promise.all([
    toggle(a, two.id, 'system_administrator', false),
    toggle(b, one.id, 'system_administrator', false),
  ])
  t.same([x.statusCode, y.statusCode].sort(), [200, 409], 'one is refused')
  const admins = await db('user_permissions').where({ company_id: company.id, permission: 'system_administrator' })
  t.equal(admins.length, 1, 'the company keeps an administrator')
})

t.test('sharing: racing shares, removals and owner changes', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const admin = await aUser(db, { company, permissions: ['system_administrator'] })
  const owner = await aUser(db, { company, name: 'Olga Owner', permissions: ['read_data'] })
  const sam = await aUser(db, { company, name: 'Sam', permissions: ['read_data'] })
  const pia = await aUser(db, { company, name: 'Pia', permissions: ['read_data'] })
  await clientAccessOn(db, company)
  const client = await anEntity(db, { company, owner })
  await initialiseSharing(db, client)
  const sharing = `/entities/${client.id}/sharing`
  const o1 = await signedIn(app, owner.email, sharing)
  const o2 = await signedIn(app, owner.email, sharing)
  const ad = await signedIn(app, admin.email, sharing)

  // Four shares with the same user at once: one share, one audit row.
  const adds = await Promise.all(
    [o1, o2, ad, o1].map((v) => v.post(`${sharing}/add`, { share_with: `user:${sam.id}` })),
  )
  t.same(
    adds.map((r) => r.statusCode),
    [303, 303, 303, 303],
  )
  t.equal((await db('client_shares').where({ entity_id: client.id, user_id: sam.id })).length, 1)
  t.equal((await db('audit_log').where({ action: 'sharing.added', target_id: client.id })).length, 1)

  // Two removals of that share at once: it goes once, the other is told it was already removed.
  const share = await db('client_shares').where({ entity_id: client.id, user_id: sam.id }).first()
  const removals = await Promise.all([o1, ad].map((v) => v.post(`${sharing}/${share.id}/remove`, {})))
  t.same(removals.map((r) => r.statusCode).sort(), [303, 422])
  t.match(visibleText(removals.find((r) => r.statusCode === 422)?.body ?? ''), 'That access was already removed.')
  t.equal((await db('audit_log').where({ action: 'sharing.removed', target_id: client.id })).length, 1)

  // The owner gives the client away twice at once: the second is decided on the new owner, and refused.
  for (let round = 0; round < ROUNDS; round++) {
    await changeEntity(db, client, { owner })
    await o1.get(sharing)
    await o2.get(sharing)
    const [x, y] = await Promise.all([
      o1.post(`/entities/${client.id}/owner`, { owner: sam.id }),
      o2.post(`/entities/${client.id}/owner`, { owner: pia.id }),
    ])
    const codes = [x.statusCode, y.statusCode]
    t.equal(codes.filter((c) => c === 303).length, 1, `round ${round}: one change of owner goes through`)
    const now = (await db('entities').where({ id: client.id }).first()).owner_user_id
    t.equal(now, codes[0] === 303 ? sam.id : pia.id, `round ${round}: and it is the one stored`)
  }
})

t.test('group members: racing saves end as one of them, never a mix, never a false error', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const one = await aUser(db, { company, permissions: ['system_administrator'] })
  const two = await aUser(db, { company, permissions: ['system_administrator'] })
  const users = await Promise.all([1, 2, 3, 4].map((i) => aUser(db, { company, name: `Member ${i}` })))
  const group = await aGroup(db, { company, name: 'Onboarding' })
  const page = `/settings/groups/${group.id}`
  const a = await signedIn(app, one.email, page)
  const b = await signedIn(app, two.email, page)
  const ids = users.map((u) => u.id)
  for (let round = 0; round < ROUNDS; round++) {
    await emptyGroup(db, group)
    const sets = [
      [ids[0], ids[1]],
      [ids[2], ids[3]],
    ] as string[][]
    const answers = await Promise.all([
      a.post(page, { name: 'Onboarding', members: sets[0] as string[] }),
      b.post(page, { name: 'Onboarding', members: sets[1] as string[] }),
      a.post(page, { name: 'Onboarding', members: sets[0] as string[] }),
      b.post(page, { name: 'Onboarding', members: sets[1] as string[] }),
    ])
    t.same(
      answers.map((r) => r.statusCode),
      [303, 303, 303, 303],
      `round ${round}: no request is refused for a name clash that is not there`,
    )
    const members = (await db('group_members').where({ group_id: group.id })).map((r) => r.user_id).sort()
    t.ok(
      sets.some((set) => JSON.stringify([...set].sort()) === JSON.stringify(members)),
      `round ${round}: members are one save's set, not a mix (${members.length})`,
    )
  }
})

t.test('client access settings: switching on twice at once adds each whole-company share once', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const one = await aUser(db, { company, permissions: ['system_administrator'] })
  const two = await aUser(db, { company, permissions: ['system_administrator'] })
  for (let i = 0; i < 5; i++) await anEntity(db, { company, owner: one })
  const a = await signedIn(app, one.email, '/settings/client-access')
  const b = await signedIn(app, two.email, '/settings/client-access')
  const on = { client_access_enabled: '1', default_access: 'company', digest_hour: '7' }
  const answers = await Promise.all([a.post('/settings/client-access', on), b.post('/settings/client-access', on)])
  t.same(
    answers.map((r) => r.statusCode),
    [303, 303],
  )
  t.equal((await db('client_shares').where({ company_id: company.id, whole_company: true })).length, 5)
})

t.test('client edits, deletion, restore and purge: the second of two racing requests changes nothing', async (t) => {
  const { app, db } = await testApp(t)
  const company = await aCompany(db)
  const one = await aUser(db, { company, permissions: ['system_administrator'] })
  const two = await aUser(db, { company, permissions: ['system_administrator'] })
  const client = await anEntity(db, { company, owner: one, name: 'Race Ltd', kind: 'organisation' })
  const a = await signedIn(app, one.email, `/entities/${client.id}/edit`)
  const b = await signedIn(app, two.email, `/entities/${client.id}/edit`)
  const form = { kind: 'organisation', name: 'Race Ltd', owner_user_id: one.id, status: 'prospect', notes: '' }

  for (let round = 0; round < ROUNDS; round++) {
    const version = await entityVersion(db, client.id)
    const [x, y] = await Promise.all([
      a.post(`/entities/${client.id}`, { ...form, version, status: 'one_off_service', notes: `round ${round}` }),
      b.post(`/entities/${client.id}`, { ...form, version, status: 'prospect', notes: `note ${round}` }),
    ])
    t.same([x.statusCode, y.statusCode].sort(), [303, 409], `round ${round}: one save, one told to look again`)
    const refused = x.statusCode === 409 ? x : y
    t.match(visibleText(refused.body), 'was changed by someone else after you opened this form')
    t.match(refused.body, x.statusCode === 409 ? `round ${round}` : `note ${round}`, 'the form keeps what was typed')
    const stored = await db('entities').where({ id: client.id }).first()
    const winner = x.statusCode === 303 ? `round ${round}` : `note ${round}`
    t.equal(stored.notes, winner, `round ${round}: the stored notes are the saved form's, whole`)
    // Reset the status for the next round, as a person would.
    await changeEntity(db, client, { status: 'prospect' })
  }
  const edits = await db('audit_log').where({ action: 'entity.updated', target_id: client.id })
  t.equal(edits.length, ROUNDS, 'one audit row per save, none for the refused ones')

  await a.get(`/entities/${client.id}/delete`)
  await b.get(`/entities/${client.id}/delete`)
  const deletes = await Promise.all([a, b].map((v) => v.post(`/entities/${client.id}/delete`, {})))
  t.same(deletes.map((r) => r.statusCode).sort(), [303, 404])
  await a.get('/recycle-bin')
  await b.get('/recycle-bin')
  const restores = await Promise.all([a, b].map((v) => v.post(`/recycle-bin/entities/${client.id}/restore`, {})))
  t.same(restores.map((r) => r.statusCode).sort(), [303, 404])
  await a.post(`/entities/${client.id}/delete`, {})
  await a.get('/recycle-bin')
  await b.get('/recycle-bin')
  const purges = await Promise.all([a, b].map((v) => v.post(`/recycle-bin/entities/${client.id}/purge`, {})))
  t.same(purges.map((r) => r.statusCode).sort(), [303, 404])
  const trail = (await db('audit_log').where({ target_id: client.id }).orderBy('id')).map((r) => r.action)
  t.same(
    trail.filter((action) => action !== 'entity.updated'),
    ['entity.deleted', 'entity.restored', 'entity.deleted', 'entity.purged'],
    'each change audited once',
  )
})

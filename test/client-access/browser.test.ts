import t from 'tap'
import { checkDialog, follow, lastEmailTo, mainText, signInByKeyboard, statusText } from '../browser/flows.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { anEntity, initialiseSharing } from '../helpers/entities.js'
import { aCompany, aGroup, aShare, aUser, clientAccessOn } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  const list = { title: 'Client relationships', h1: 'Client relationships', status: 200 }
  const settingsPage = { title: 'Client access', h1: 'Client access', status: 200 }

  // Another firm with a group of the same name and a user who must never be offered as a member.
  const otherFirm = await aCompany(db, 'Elsewhere LLP')
  const outsider = await aUser(db, { company: otherFirm, permissions: ['read_data'], name: 'Mia Chen (Elsewhere)' })
  await aGroup(db, { company: otherFirm, name: 'Audit team' })

  /**
   * A firm of three: an administrator, a staff member and a group member, and two clients; client access
   * off, or on with these options.
   */
  const aFirm = async (s: BrowserSession, opts: { clientAccess?: Parameters<typeof clientAccessOn>[2] } = {}) => {
    const company = await aCompany(db, `Juniper Partners ${tag(s)}`)
    if (opts.clientAccess) await clientAccessOn(db, company, opts.clientAccess)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    const staff = await aUser(db, { company, permissions: ['read_data'], name: 'Sam Ortiz' })
    const member = await aUser(db, { company, permissions: ['read_data'], name: 'Mia Chen' })
    const juniper = await anEntity(db, { company, owner: admin, name: 'Juniper Holdings' })
    const cedar = await anEntity(db, { company, owner: admin, name: 'Cedar Ltd' })
    return { company, admin, staff, member, juniper, cedar }
  }
  /** Who a client is shared with, by name: what the database holds, free of ids. */
  const sharesOf = async (entity: { id: string }) =>
    db('client_shares as s')
      .leftJoin('groups as g', 'g.id', 's.group_id')
      .leftJoin('users as u', 'u.id', 's.user_id')
      .where('s.entity_id', entity.id)
      .select(db.raw("coalesce('group ' || g.name, 'user ' || u.name, 'whole company') as share"))
      .orderBy('share')
      .then((rows: { share: string }[]) => rows.map((r) => r.share))
  const rowsOf = async (s: BrowserSession) =>
    (await s.page.locator('#entity-results tbody th').allTextContents()).map((n) => n.replace(/\s+/g, ' ').trim())

  /** Opens Sharing options from the client's page: a dialog with htmx, a page of its own without. */
  const openSharing = async (s: BrowserSession, t: Test, entity: { id: string; name: string }) => {
    const title = `Sharing options: ${entity.name}`
    if (s.mode.javaScriptEnabled) {
      await s.tabTo('link', 'Sharing options')
      await s.page.keyboard.press('Enter')
      await checkDialog(s, t, title)
      t.equal(s.path, `/entities/${entity.id}`, 'the dialog opens over the client’s page')
    } else {
      await follow(s, 'link', 'Sharing options')
      await s.check(t, { title, h1: title, status: 200 })
    }
  }
  type Test = Parameters<Parameters<typeof suite.flow>[1]>[1]

  await suite.flow(
    'an administrator manages client access, creates a group and shares a client with it',
    async (s, t) => {
      const { company, admin, member, juniper, cedar } = await aFirm(s)
      await signInByKeyboard(s, t, admin)
      await follow(s, 'link', 'Settings')
      await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
      await follow(s, 'link', 'Client access')
      await s.check(t, settingsPage)
      for (const name of ['Manage user access to clients', 'Allow requesting access']) {
        await s.page.getByRole('checkbox', { name, exact: true }).focus()
        await s.page.keyboard.press(' ')
      }
      await follow(s, 'button', 'Save client access settings')
      await s.check(t, settingsPage)
      t.equal(
        await statusText(s),
        'Client access settings saved. 2 client relationships were shared with the whole company, so nobody lost access.',
        'the status region says nobody lost access',
      )

      await follow(s, 'link', 'Create new group')
      await s.check(t, { title: 'Create a group', h1: 'Create a group', status: 200 })
      t.notMatch(await mainText(s), outsider.name, 'users of another firm are not offered as members')
      await s.tabTo('textbox', 'Group name')
      await s.page.keyboard.type('Audit team')
      // The member picker: type part of the name; with JavaScript the results come as one types, without
      // it the Find button sends the form back with them (the name typed is kept).
      await s.tabTo('searchbox', 'Find users to add')
      await s.page.keyboard.type(member.name.split(' ')[0] as string)
      if (s.mode.javaScriptEnabled) {
        await s.page.getByRole('group', { name: /^Users found for/ }).waitFor()
      } else {
        await follow(s, 'button', 'Find')
        await s.check(t, { title: 'Create a group', h1: 'Create a group', status: 200 })
        t.equal(await s.page.getByRole('textbox', { name: 'Group name' }).inputValue(), 'Audit team', 'name kept')
      }
      t.notMatch(await mainText(s), outsider.name, 'users of another firm are never found')
      await s.page.getByRole('checkbox', { name: new RegExp(`^${member.name} `) }).focus()
      await s.page.keyboard.press(' ')
      await follow(s, 'button', 'Create group')
      await s.check(t, settingsPage)
      t.equal(await statusText(s), 'The group Audit team was created.', 'the status region confirms it')
      const groups = s.page.getByRole('table', { name: 'Groups' })
      t.match((await groups.textContent())?.replace(/\s+/g, ' '), 'Audit team 1 0', 'one member, no client yet')

      await s.goto(`/entities/${juniper.id}`)
      await s.check(t, { title: juniper.name, h1: juniper.name, status: 200 })
      await openSharing(s, t, juniper)
      await s.page.getByRole('combobox', { name: 'Share with' }).selectOption({ label: 'Audit team' })
      const sharing = `Sharing options: ${juniper.name}`
      /** A button of the sharing options: in the dialog, updated in place (with JS); else the page again. */
      const press = async (button: string, status: string) => {
        if (s.mode.javaScriptEnabled) {
          await s.tabTo('button', button)
          await s.page.keyboard.press('Space')
          await s.page.locator('#status').getByText(status).waitFor()
          t.equal(
            await s.page.evaluate(() => document.activeElement?.id),
            'dialog-title',
            `${button}: focus starts on the dialog's heading`,
          )
          await checkDialog(s, t, sharing)
          t.equal(s.path, `/entities/${juniper.id}`, `${button}: the dialog stays over the client's page`)
        } else {
          await follow(s, 'button', button)
          await s.check(t, { title: sharing, h1: sharing, status: 200 })
        }
        t.equal(await statusText(s), status, `${button}: the result is announced`)
      }
      await press('Share', 'Juniper Holdings is now shared with Audit team.')
      await press('Remove whole-company access', 'The whole company no longer has access through this share.')
      const who = ((await s.page.locator('.access-list').textContent()) ?? '').replace(/\s+/g, ' ').trim()
      t.match(who, 'Group: Audit team', 'the group is listed with access')
      t.notMatch(who, 'The whole company', 'the whole company is not any more')

      const settings = await db('companies')
        .where({ id: company.id })
        .first('client_access_enabled', 'allow_access_requests', 'allow_sharing', 'default_access')
      const members = await db('group_members as gm')
        .join('users as u', 'u.id', 'gm.user_id')
        .join('groups as g', 'g.id', 'gm.group_id')
        .where('g.company_id', company.id)
        .pluck('u.name')
      t.strictSame(members, [member.name], 'the group holds its member')
      t.strictSame(await sharesOf(juniper), ['group Audit team'], 'the client is shared with the group only')
      t.strictSame(await sharesOf(cedar), ['whole company'], 'the other client keeps its whole-company share')
      return { settings, members, juniper: await sharesOf(juniper), cedar: await sharesOf(cedar) }
    },
  )

  await suite.flow(
    'a staff member without access requests it; an administrator grants it from the email',
    async (s, t) => {
      const firm = await aFirm(s, { clientAccess: { allowAccessRequests: true } })
      const { admin, staff, juniper, cedar } = firm
      await initialiseSharing(db, juniper, cedar)
      await aShare(db, { company: firm.company, client: cedar, wholeCompany: true })

      await signInByKeyboard(s, t, staff)
      await follow(s, 'link', 'Clients')
      await s.check(t, list)
      t.strictSame(
        await rowsOf(s),
        ['Cedar Ltd', 'Juniper Holdings No access Sharing options for Juniper Holdings'],
        'the client without access shows its name and No access only',
      )
      t.equal(await s.page.getByRole('link', { name: 'Juniper Holdings', exact: true }).count(), 0, 'and no link')

      await follow(s, 'link', 'Sharing options for Juniper Holdings')
      const sharing = `Sharing options: ${juniper.name}`
      await s.check(t, { title: sharing, h1: sharing, status: 200 })
      t.match(await mainText(s), 'Owner: Ada Brennan', 'the page says who can share it')
      await s.tabTo('textbox', 'Message (optional)')
      await s.page.keyboard.type('I am preparing the annual review.')
      await follow(s, 'button', 'Request access')
      await s.check(t, { title: sharing, h1: sharing, status: 200 })
      t.match(await statusText(s), 'Your request was sent to the people who can share this client.', 'confirmed')
      t.match(await mainText(s), 'your request is waiting for an answer', 'the request is shown as waiting')
      t.equal(await s.page.getByRole('button', { name: 'Request access' }).count(), 0, 'it cannot be sent twice')
      await follow(s, 'button', 'Sign out')
      await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })

      const email = await lastEmailTo(db, admin.email)
      t.equal(email.subject, 'Sam Ortiz asks for access to Juniper Holdings', 'the administrator is emailed')
      t.match(email.path, /^\/access-requests\/[0-9a-f-]{36}$/, 'with a link to the request')
      await signInByKeyboard(s, t, admin)
      await s.goto(email.path)
      const requestPage = `Access request for ${juniper.name}`
      await s.check(t, { title: requestPage, h1: requestPage, status: 200 })
      t.match(await mainText(s), 'Their message: “I am preparing the annual review.”', 'the message is shown')
      await follow(s, 'button', 'Grant access')
      await s.check(t, { title: 'Access requests', h1: 'Access requests', status: 200 })
      t.equal(await statusText(s), 'Sam Ortiz now has access to Juniper Holdings.', 'the status region confirms it')
      t.match(await mainText(s), 'No request is waiting for you.', 'nothing is left to decide')
      await follow(s, 'button', 'Sign out')
      await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })

      await signInByKeyboard(s, t, staff)
      await follow(s, 'link', 'Clients')
      await s.check(t, list)
      t.strictSame(await rowsOf(s), ['Cedar Ltd', 'Juniper Holdings'], 'the client is open to them now')
      const request = await db('access_requests').where({ entity_id: juniper.id }).first('status', 'message')
      const outcome = await db('outbox_emails').where({ to_address: staff.email }).pluck('subject')
      t.strictSame(
        outcome,
        ['Your access request for Juniper Holdings was granted'],
        'the requester is emailed the outcome',
      )
      return { request, shares: await sharesOf(juniper), rows: await rowsOf(s), outcome }
    },
  )

  await suite.flow('an administrator deletes a group after its confirmation', async (s, t) => {
    const firm = await aFirm(s, { clientAccess: {} })
    const group = await aGroup(db, { company: firm.company, name: 'Audit team', members: [firm.staff, firm.member] })
    await initialiseSharing(db, firm.juniper)
    await aShare(db, { company: firm.company, client: firm.juniper, group })
    await signInByKeyboard(s, t, firm.admin)
    await follow(s, 'link', 'Settings')
    await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
    await follow(s, 'link', 'Client access')
    await s.check(t, settingsPage)

    const title = 'Delete the group Audit team?'
    const impact =
      'Deleting Audit team removes the access it gives. 2 members lose the access it gave them to 1 client relationship, unless they have access in another way.'
    if (s.mode.javaScriptEnabled) {
      await s.tabTo('link', 'Delete the group Audit team')
      await s.page.keyboard.press('Enter')
      await checkDialog(s, t, title)
      await s.page.keyboard.press('Escape')
      await s.page.getByRole('dialog').waitFor({ state: 'detached' })
      t.equal(await s.focused(), 'a', 'Escape closes the dialog and gives focus back to the link')
      await s.page.keyboard.press('Enter')
      await checkDialog(s, t, title)
      t.match((await s.page.getByRole('dialog').textContent())?.replace(/\s+/g, ' '), impact, 'it states the impact')
      t.equal(s.path, '/settings/client-access', 'over the settings page')
    } else {
      await follow(s, 'link', 'Delete the group Audit team')
      await s.check(t, { title, h1: title, status: 200 })
      t.match(await mainText(s), impact, 'the page states the impact')
    }
    t.ok(await db('groups').where({ id: group.id }).first(), 'nothing deleted yet')
    await follow(s, 'button', 'Delete the group')
    await s.check(t, settingsPage)
    t.equal(await statusText(s), 'The group Audit team was deleted, with its access to clients.', 'confirmed')
    t.match(await mainText(s), 'No groups yet.', 'the group is gone from the list')
    const left = await db('groups').where({ company_id: firm.company.id }).pluck('name')
    t.strictSame(left, [], 'the database holds no group')
    t.strictSame(await sharesOf(firm.juniper), [], 'nor its share')
    t.strictSame(
      await db('groups').where({ company_id: otherFirm.id }).pluck('name'),
      ['Audit team'],
      'other firm’s kept',
    )
    const audit = await db('audit_log').where({ actor_user_id: firm.admin.id }).orderBy('id').pluck('action')
    return { left, shares: await sharesOf(firm.juniper), audit }
  })

  await suite.validateSavedPages()
}

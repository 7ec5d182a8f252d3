import t from 'tap'
import type { PermissionKey } from '../../src/access/permissions.js'
import { checkSwapped, follow, lastEmailTo, mainText, signInByKeyboard, statusText } from '../browser/flows.js'
import { Visitor } from '../helpers/app.js'
import { type BrowserSession, browserSuite } from '../helpers/browser.js'
import { aCompany, aUser, type User } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  // Another firm, with a user of the same name: never listed, never changed.
  const otherFirm = await aCompany(db, 'Elsewhere LLP')
  const outsider = await aUser(db, { company: otherFirm, permissions: ['system_administrator'], name: 'Cleo Marsh' })

  const tag = (s: BrowserSession) => (s.mode.javaScriptEnabled ? 'js' : 'nojs')
  const granted = async (user: { id: string }) =>
    db('user_permissions').where({ user_id: user.id }).orderBy('permission').pluck('permission')
  const auditOf = async (actor: User) =>
    db('audit_log').where({ actor_user_id: actor.id }).orderBy('id').pluck('action')

  /** Ticks or clears a checkbox the keyboard way: focus it and press Space. */
  const toggle = async (s: BrowserSession, name: string) => {
    await s.page.getByRole('checkbox', { name, exact: true }).focus()
    await s.page.keyboard.press(' ')
  }
  const stateOf = async (s: BrowserSession, key: PermissionKey) =>
    ((await s.page.locator(`#state-${key}`).textContent()) ?? '').replace(/\s+/g, ' ').trim()

  await suite.flow('an administrator adds a user, who accepts the invitation and signs in', async (s, t) => {
    const company = await aCompany(db, `Harbour Accountants ${tag(s)}`)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    const email = `cleo-${tag(s)}@harbour.test`
    await signInByKeyboard(s, t, admin)

    await follow(s, 'link', 'Settings')
    await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
    t.notMatch(await mainText(s), outsider.email, 'users of another company are not listed')
    await follow(s, 'link', 'Add a user')
    await s.check(t, { title: 'Add a user', h1: 'Add a user', status: 200 })
    await s.tabTo('textbox', 'Full name')
    await s.page.keyboard.type('Cleo Marsh')
    await s.page.keyboard.press('Tab')
    t.equal(await s.focused(), 'input#email', 'Tab goes from the name to the email address')
    await s.page.keyboard.type(email)
    await toggle(s, 'Read Data')
    await toggle(s, 'Upload Entity Documents')
    await follow(s, 'button', 'Add user and send invitation')
    await s.check(t, { title: 'User: Cleo Marsh', h1: 'Cleo Marsh', status: 200 })
    t.equal(
      await statusText(s),
      `Cleo Marsh was added. An invitation to set a password was sent to ${email}.`,
      'the status region confirms the invitation',
    )
    t.match(await mainText(s), 'Status: Invited (has not chosen a password yet)', 'the user is shown as invited')
    const user = await db('users').where({ email }).first()
    t.equal(user.company_id, company.id, 'the user belongs to the administrator’s company')
    t.strictSame(await granted(user), ['read_data', 'upload_entity_documents'], 'with the permissions ticked')

    const invitation = await lastEmailTo(db, email)
    t.match(invitation.path, /^\/invitations\/[^/]+$/, 'the email holds the invitation link')
    await follow(s, 'button', 'Sign out')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })

    await s.goto(invitation.path)
    await s.check(t, { title: 'Choose your password', h1: 'Choose your password', status: 200 })
    t.match(await mainText(s), `Welcome, Cleo Marsh. Choose a password for ${email}`, 'the page greets them')
    const password = 'lantern orchard velvet compass'
    await s.tabTo('textbox', 'New password')
    await s.page.keyboard.type(password)
    await s.page.keyboard.press('Tab')
    t.equal(await s.focused(), 'input#password_confirmation', 'Tab goes on to the confirmation')
    await s.page.keyboard.type(password)
    await follow(s, 'button', 'Set password')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    t.equal(s.path, '/login?welcome=1', 'setting the password leads to the sign-in page')

    await signInByKeyboard(s, t, { id: user.id, companyId: company.id, name: 'Cleo Marsh', email, password })
    t.match(await mainText(s), `Welcome, Cleo Marsh. You are signed in to ${company.name}`, 'they are signed in')
    await follow(s, 'link', 'Your profile')
    await s.check(t, { title: 'Your profile', h1: 'Your profile', status: 200 })
    t.match(await mainText(s), 'Upload Entity Documents', 'with the permissions given')

    await s.goto(invitation.path)
    await s.check(t, {
      title: 'This invitation link does not work',
      h1: 'This invitation link does not work',
      status: 404,
    })
    const used = await db('user_invitations').where({ user_id: user.id }).pluck('used_at')
    t.equal(used.length, 1, 'one invitation was sent')
    t.ok(used[0], 'and it is used up')
    t.strictSame(await granted(outsider), ['system_administrator'], 'the namesake in another firm is untouched')
    return { permissions: await granted(user), audit: await auditOf(admin), invited: used.length }
  })

  await suite.flow('a user manager switches on one permission', async (s, t) => {
    const company = await aCompany(db, `Toggle & Co ${tag(s)}`)
    const manager = await aUser(db, {
      company,
      name: 'Mo Patel',
      permissions: ['manage_user_accounts', 'view_reports', 'upload_entity_documents', 'read_data'],
    })
    const target = await aUser(db, { company, name: 'Jon Reyes', permissions: ['read_data'] })
    await signInByKeyboard(s, t, manager)
    await s.goto(`/settings/users/${target.id}`)
    await s.check(t, { title: 'User: Jon Reyes', h1: 'Jon Reyes', status: 200 })
    await follow(s, 'link', 'Permissions')
    const page = { title: 'Permissions of Jon Reyes', h1: 'Permissions of Jon Reyes' }
    await s.check(t, { ...page, status: 200 })
    t.equal(await stateOf(s, 'view_reports'), 'Off', 'View Reports is Off')
    t.match(
      await stateOf(s, 'system_administrator'),
      'You cannot change this: you do not hold it yourself.',
      'what the manager cannot change is said in words',
    )

    await toggle(s, 'View Reports')
    if (s.mode.javaScriptEnabled) {
      await s.page.getByRole('status').getByText('View Reports is now On for Jon Reyes.').waitFor()
      t.equal(await s.focused(), 'input#perm-view_reports', 'focus stays on the switch')
      t.equal(s.path, `/settings/users/${target.id}/permissions`, 'the page did not change')
      await checkSwapped(s, t, page)
    } else {
      await follow(s, 'button', 'Save permissions')
      await s.check(t, { ...page, status: 200 })
      t.equal(await statusText(s), 'The permissions of Jon Reyes were saved.', 'the status region confirms it')
    }
    t.equal(await stateOf(s, 'view_reports'), 'On', 'View Reports is On')
    t.match(await stateOf(s, 'read_data'), 'On — included in View Reports', 'Read Data is now included')
    t.ok(await s.page.getByRole('checkbox', { name: 'Read Data', exact: true }).isDisabled(), 'and locked')
    t.strictSame(await granted(target), ['read_data', 'view_reports'], 'the database holds the new permission')
    return {
      states: [await stateOf(s, 'view_reports'), await stateOf(s, 'read_data')],
      permissions: await granted(target),
      audit: await auditOf(manager),
    }
  })

  await suite.flow('a user manager changes several permissions and saves the whole form', async (s, t) => {
    const company = await aCompany(db, `Whole Form Ltd ${tag(s)}`)
    const manager = await aUser(db, {
      company,
      name: 'Mo Patel',
      permissions: ['manage_user_accounts', 'edit_entities', 'download_entity_documents', 'view_reports'],
    })
    const target = await aUser(db, { company, name: 'Jon Reyes', permissions: ['view_reports'] })
    await signInByKeyboard(s, t, manager)
    await s.goto(`/settings/users/${target.id}/permissions`)
    const page = { title: 'Permissions of Jon Reyes', h1: 'Permissions of Jon Reyes' }
    await s.check(t, { ...page, status: 200 })
    for (const name of ['Edit Entities', 'Download Entity Documents', 'View Reports']) {
      await toggle(s, name)
      if (s.mode.javaScriptEnabled) {
        await s.page.getByRole('status').getByText(`${name} is now`).waitFor()
      }
    }
    await follow(s, 'button', 'Save permissions')
    await s.check(t, { ...page, status: 200 })
    t.equal(
      await statusText(s),
      s.mode.javaScriptEnabled
        ? 'Nothing changed: the permissions of Jon Reyes were already as shown.'
        : 'The permissions of Jon Reyes were saved.',
      'the form agrees with what the switches saved one by one, or saves them all at once',
    )
    const states = {
      edit: await stateOf(s, 'edit_entities'),
      download: await stateOf(s, 'download_entity_documents'),
      reports: await stateOf(s, 'view_reports'),
      read: await stateOf(s, 'read_data'),
    }
    t.strictSame(
      states,
      {
        edit: 'On',
        download: 'On',
        reports: 'Off',
        read: 'On — included in Edit Entities Switch off Edit Entities first.',
      },
      'the page shows the saved set',
    )
    t.strictSame(await granted(target), ['download_entity_documents', 'edit_entities'], 'and the database holds it')
    return { states, permissions: await granted(target) }
  })

  await suite.flow('an administrator tries to remove System Administrator from the last one', async (s, t) => {
    const company = await aCompany(db, `Sole Admin Partners ${tag(s)}`)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    await signInByKeyboard(s, t, admin)
    await s.goto(`/settings/users/${admin.id}/permissions`)
    const page = { title: 'Permissions of Ada Brennan', h1: 'Permissions of Ada Brennan' }
    await s.check(t, { ...page, status: 200 })
    const message =
      'Ada Brennan is the last active System Administrator. Removing System Administrator would leave the company without one: make another user an administrator first.'

    await toggle(s, 'System Administrator')
    let shown: string
    if (s.mode.javaScriptEnabled) {
      await s.page.getByRole('status').getByText('Not changed:').waitFor()
      shown = await statusText(s)
      t.equal(shown, `Not changed: ${message}`, 'the status region announces the refusal')
      t.ok(
        await s.page.getByRole('checkbox', { name: 'System Administrator', exact: true }).isChecked(),
        'the switch is back On',
      )
      await checkSwapped(s, t, page)
    } else {
      await follow(s, 'button', 'Save permissions')
      const report = await s.check(t, { ...page, status: 409 })
      t.strictSame(
        report.tree.filter((n) => n.role === 'alert').map((n) => n.name),
        ['There is a problem'],
        'an error summary is announced',
      )
      shown = ((await s.page.getByRole('alert').textContent()) ?? '').replace(/\s+/g, ' ').trim()
      t.equal(shown, `There is a problem ${message}`, 'it says why')
      await s.tabTo('link', message)
      await s.page.keyboard.press('Enter')
      t.equal(await s.focused(), 'table#permissions', 'the error link leads to the permissions')
    }
    t.strictSame(await granted(admin), ['system_administrator'], 'the administrator is still one')
    return { permissions: await granted(admin), audit: await auditOf(admin), refused: shown.includes(message) }
  })

  await suite.flow('an administrator signs a user out of all sessions', async (s, t) => {
    const company = await aCompany(db, `Session Partners ${tag(s)}`)
    const admin = await aUser(db, { company, permissions: ['system_administrator'], name: 'Ada Brennan' })
    const target = await aUser(db, { company, permissions: ['read_data'], name: 'Jon Reyes' })
    const elsewhere = new Visitor(suite.app)
    await elsewhere.login(target.email, target.password)
    t.equal((await elsewhere.get('/')).statusCode, 200, 'the user is signed in elsewhere')
    await signInByKeyboard(s, t, admin)

    await follow(s, 'link', 'Settings')
    await s.check(t, { title: 'Users', h1: 'Users', status: 200 })
    await follow(s, 'link', 'Signed-in users')
    await s.check(t, { title: 'Signed-in users', h1: 'Signed-in users', status: 200 })
    t.match(await mainText(s), 'Jon Reyes', 'the user is listed as signed in')
    await follow(s, 'link', 'Jon Reyes')
    await s.check(t, { title: 'Sessions of Jon Reyes', h1: 'Sessions of Jon Reyes', status: 200 })
    t.equal(await s.page.getByRole('table', { name: 'Active sessions' }).getByRole('row').count(), 2, 'one session')

    await follow(s, 'button', 'Sign Jon Reyes out of all sessions')
    await s.check(t, { title: 'Sessions of Jon Reyes', h1: 'Sessions of Jon Reyes', status: 200 })
    t.equal(await statusText(s), 'Jon Reyes was signed out of 1 session.', 'the status region confirms it')
    t.match(await mainText(s), 'No active sessions.', 'no session is left')
    const next = await elsewhere.get('/')
    t.equal(next.headers.location, '/login', 'the user’s next request is sent to sign in')
    const row = await db('sessions').where({ user_id: target.id }).count<{ count: string }>('* as count').first()
    t.equal(Number(row?.count), 0, 'the database holds no session of theirs')
    return { path: s.path.replace(target.id, ':id'), audit: await auditOf(admin), sessions: Number(row?.count) }
  })

  await suite.validateSavedPages()
}

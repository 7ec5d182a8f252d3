import t from 'tap'
import { sendResetLinks } from '../../src/auth/password-reset.js'
import { accountRecord, follow, lastEmailTo, mainText, signInByKeyboard } from '../browser/flows.js'
import { browserSuite } from '../helpers/browser.js'
import { aCompany, aUser } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const company = await aCompany(db, 'Harbour Accountants')

  await suite.flow('a staff member signs in after mistyping the password', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data'], name: 'Ada Brennan' })
    await s.goto('/login')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    await s.tabTo('textbox', 'Email address')
    await s.page.keyboard.type(user.email)
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('correct horse battery stapler')
    await s.pressForNewPage('Enter')

    const report = await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 401 })
    const alerts = report.tree.filter((n) => n.role === 'alert')
    t.strictSame(
      alerts.map((n) => n.name),
      ['There is a problem'],
      'one alert, named by its heading',
    )
    t.match(
      (await s.page.getByRole('alert').textContent()) ?? '',
      'Email or password is incorrect',
      'the alert says what went wrong',
    )
    const email = report.tree.find((n) => n.role === 'textbox' && n.name === 'Email address')
    t.match(email?.description, 'Error: Email or password is incorrect', 'the email field is described by its error')
    const main = report.tree.findIndex((n) => n.role === 'main')
    const alert = report.tree.findIndex((n) => n.role === 'alert')
    const firstField = report.tree.findIndex((n, i) => i > main && n.role === 'textbox')
    t.ok(main < alert && alert < firstField, 'read from main down, the alert comes before the form')
    if (s.mode.javaScriptEnabled) {
      t.ok(alerts[0]?.focused, 'the error summary has focus when the page opens, so it is announced')
    }
    t.equal(
      await s.page.getByRole('textbox', { name: 'Email address' }).inputValue(),
      user.email,
      'the email address typed is kept',
    )

    // The error links to its field: Enter on it puts the cursor there.
    await s.tabTo('link', 'Email or password is incorrect')
    await s.page.keyboard.press('Enter')
    t.equal(await s.focused(), 'input#email', 'the error link moves focus to the email field')
    await s.page.keyboard.press('Tab')
    t.equal(await s.focused(), 'input#password', 'Tab goes on to the password')
    await s.page.keyboard.type(user.password)
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Dashboard', h1: 'Dashboard', status: 200 })
    t.match(
      await mainText(s),
      'Welcome, Ada Brennan. You are signed in to Harbour Accountants',
      'the dashboard greets them',
    )

    const record = await accountRecord(db, user)
    t.strictSame(
      record,
      { audit: ['auth.login_failed', 'auth.login'], attempts: [false, true], sessions: 1 },
      'the failed and the good attempt are recorded, and one session is open',
    )
    return { path: s.path, record }
  })

  await suite.flow('a staff member signs in, reads the dashboard and signs out', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data', 'view_reports'], name: 'Bo Okafor' })
    await signInByKeyboard(s, t, user)
    t.equal(s.path, '/', 'they are on the dashboard')
    t.match(await mainText(s), 'Waiting for you Nothing is waiting for you.', 'the dashboard is their work queue')
    await follow(s, 'link', 'Your profile')
    await s.check(t, { title: 'Your profile', h1: 'Your profile', status: 200 })
    const text = await mainText(s)
    t.match(text, 'Read Data', 'their profile lists what they may do')
    t.match(text, 'View Reports')

    await s.tabTo('button', 'Sign out')
    await s.pressForNewPage('Space')
    const report = await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    t.equal(s.path, '/login?signed_out=1', 'signing out leads to the sign-in page')
    const status = s.page.getByRole('status').filter({ hasText: 'You have signed out.' })
    t.equal(await status.count(), 1, 'the sign-out is confirmed in a status message (a live region)')
    t.ok(
      report.tree.some((n) => n.role === 'status'),
      'the status message is in the accessibility tree',
    )
    t.equal(await s.page.getByRole('button', { name: 'Sign out' }).count(), 0, 'there is no sign-out button any more')

    await s.goto('/')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    t.equal(s.path, '/login', 'the dashboard asks them to sign in again')

    const record = await accountRecord(db, user)
    t.strictSame(
      record,
      { audit: ['auth.login', 'auth.logout'], attempts: [true], sessions: 0 },
      'the sign-out is audited and the session is gone',
    )
    return { path: s.path, record }
  })

  await suite.flow('a staff member who forgot their password chooses a new one from the emailed link', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data'], name: 'Cy Forgetful' })
    await s.goto('/login')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    await follow(s, 'link', 'Forgotten your password?')
    await s.check(t, { title: 'Forgotten password', h1: 'Forgotten password', status: 200 })
    await s.tabTo('textbox', 'Email address')
    await s.page.keyboard.type(user.email)
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Forgotten password', h1: 'Forgotten password', status: 200 })
    t.match(
      await mainText(s),
      'If an account uses that address, we have emailed it a link',
      'the same answer for any address',
    )

    t.equal(await sendResetLinks(db, 'http://localhost'), 1, 'the job emails the link')
    const email = await lastEmailTo(db, user.email)
    t.match(email.subject, 'Choose a new KYC Desk password')
    await s.goto(email.path)
    await s.check(t, { title: 'Choose a new password', h1: 'Choose a new password', status: 200 })
    await s.tabTo('textbox', 'New password')
    await s.page.keyboard.type('short')
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('short')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Choose a new password', h1: 'Choose a new password', status: 422 })
    t.match((await s.page.getByRole('alert').textContent()) ?? '', 'at least 12 characters', 'the rule is said')
    await s.tabTo('textbox', 'New password')
    await s.page.keyboard.type('a forgotten password replaced')
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('a forgotten password replaced')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
    t.match(await mainText(s), 'Your new password is set', 'the sign-in page says so')
    await signInByKeyboard(s, t, { ...user, password: 'a forgotten password replaced' })

    const record = await accountRecord(db, user)
    t.strictSame(
      record,
      { audit: ['auth.password_reset_requested', 'auth.password_reset', 'auth.login'], attempts: [true], sessions: 1 },
      'the link, the reset and the sign-in are audited',
    )
    return { path: s.path, record }
  })

  await suite.flow('a staff member changes their password from their profile', async (s, t) => {
    const user = await aUser(db, { company, permissions: ['read_data'], name: 'Di Careful' })
    await signInByKeyboard(s, t, user)
    await follow(s, 'link', 'Your profile')
    await s.check(t, { title: 'Your profile', h1: 'Your profile', status: 200 })
    await follow(s, 'link', 'Change your password')
    await s.check(t, { title: 'Change your password', h1: 'Change your password', status: 200 })
    await s.tabTo('textbox', 'Current password')
    await s.page.keyboard.type('not the password')
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('a changed password here')
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('a changed password here')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Change your password', h1: 'Change your password', status: 422 })
    t.match((await s.page.getByRole('alert').textContent()) ?? '', 'Your current password is not right')
    await s.tabTo('textbox', 'Current password')
    await s.page.keyboard.type(user.password)
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('a changed password here')
    await s.page.keyboard.press('Tab')
    await s.page.keyboard.type('a changed password here')
    await s.pressForNewPage('Enter')
    await s.check(t, { title: 'Your profile', h1: 'Your profile', status: 200 })
    t.match(await mainText(s), 'Your password is changed', 'the profile confirms it')
    const email = await lastEmailTo(db, user.email).catch(() => undefined)
    t.notOk(email, 'the notice carries no link')
    const notice = await db('outbox_emails').where({ to_address: user.email }).first('subject')
    t.equal(notice?.subject, 'Your KYC Desk password was changed', 'and they are told by email')
    const record = await accountRecord(db, user)
    return { path: s.path, record }
  })

  await suite.validateSavedPages()
}

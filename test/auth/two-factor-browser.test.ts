/**
 * Two-factor sign-in in the browser (issue 17, point 5), with JavaScript on and off, by keyboard: turning it on
 * from the profile (the QR code is an image with a name; the key is text), the recovery codes shown once,
 * signing in with a code from the app, and with a recovery code.
 */
import { generate } from 'otplib'
import t from 'tap'
import { accountRecord, follow, mainText, signInByKeyboard } from '../browser/flows.js'
import { browserSuite } from '../helpers/browser.js'
import { aCompany, aUser, type User } from '../helpers/factories.js'

const suite = await browserSuite(t)

if (suite) {
  const { db } = suite
  const company = await aCompany(db, 'Harbour Accountants')
  /** The code the user's app shows `stepsAhead` 30-second steps from now. */
  const codeOf = async (user: User, stepsAhead = 0) => {
    const { secret } = await db('user_totp').where({ user_id: user.id }).first('secret')
    return generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * stepsAhead })
  }
  const signOut = async (s: Parameters<typeof follow>[0]) => {
    await s.tabTo('button', 'Sign out')
    await s.pressForNewPage('Space')
  }
  const CODE_PAGE = { title: 'Two-factor sign-in', h1: 'Two-factor sign-in', status: 200 }

  await suite.flow(
    'a staff member turns on two-factor sign-in, then signs in with a code and with a recovery code',
    async (s, t) => {
      const user = await aUser(db, { company, permissions: ['read_data'], name: 'Eve Careful' })
      await signInByKeyboard(s, t, user)
      await follow(s, 'link', 'Your profile')
      await s.check(t, { title: 'Your profile', h1: 'Your profile', status: 200 })
      await follow(s, 'link', 'Two-factor sign-in')
      await s.check(t, { title: 'Two-factor sign-in', h1: 'Two-factor sign-in', status: 200 })
      t.equal(
        await s.page.getByRole('img', { name: 'QR code for your authenticator app' }).count(),
        1,
        'the QR code is a named image',
      )
      t.match(
        await mainText(s),
        /Or type this key into the app \(a time-based key\): [A-Z2-7]{4} /,
        'the key is there as text',
      )

      await s.tabTo('textbox', 'Code from your app')
      await s.page.keyboard.type('123')
      await s.pressForNewPage('Enter')
      await s.check(t, { title: 'Two-factor sign-in', h1: 'Two-factor sign-in', status: 422 })
      t.match((await s.page.getByRole('alert').textContent()) ?? '', 'That code is not right')
      await s.tabTo('textbox', 'Code from your app')
      await s.page.keyboard.type(await codeOf(user))
      await s.pressForNewPage('Enter')
      await s.check(t, { title: 'Your recovery codes', h1: 'Your recovery codes', status: 200 })
      const codes = (await s.page.locator('.recovery-codes code').allTextContents()).map((c) => c.trim())
      t.equal(codes.length, 10, 'ten recovery codes are shown')

      await signOut(s)
      await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
      await signInByKeyboard(s, t, user, CODE_PAGE)
      await s.tabTo('textbox', 'Code')
      await s.page.keyboard.type(await codeOf(user, 1))
      await s.pressForNewPage('Enter')
      await s.check(t, { title: 'Dashboard', h1: 'Dashboard', status: 200 })

      await signOut(s)
      await s.check(t, { title: 'Sign in', h1: 'Sign in', status: 200 })
      await signInByKeyboard(s, t, user, CODE_PAGE)
      await s.tabTo('textbox', 'Code')
      await s.page.keyboard.type(codes[0] as string)
      await s.pressForNewPage('Enter')
      await s.check(t, { title: 'Dashboard', h1: 'Dashboard', status: 200 })
      t.match(
        await mainText(s),
        'You signed in with a recovery code; 9 of 10 are left',
        'the dashboard says how many are left',
      )

      const record = await accountRecord(db, user)
      t.strictSame(
        record.audit,
        [
          'auth.login',
          'auth.two_factor_enabled',
          'auth.logout',
          'auth.login',
          'auth.logout',
          'auth.recovery_code_used',
          'auth.login',
        ],
        'each step is audited',
      )
      return { path: s.path, record }
    },
  )

  await suite.validateSavedPages()
}

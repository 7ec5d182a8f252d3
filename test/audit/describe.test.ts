/**
 * The audit trail in words (issue 12, defect 4): who, what, from what to what, with names, labels and
 * country names; never ids, codes or raw line breaks.
 */
import t from 'tap'
import { actionLabel, auditSentence, changesInWords, userIdsIn } from '../../src/audit/describe.js'

const chloe = '11111111-1111-4111-8111-111111111111'
const omar = '22222222-2222-4222-8222-222222222222'
const names = new Map([
  [chloe, 'Chloe Compliance'],
  [omar, 'Omar Owner'],
])

t.test('a change of a client: each field from what to what, in words', async (t) => {
  const sentence = auditSentence(
    {
      action: 'entity.updated',
      actor_name: 'Chloe Compliance',
      target: 'Juniper Holdings',
      before: {
        status: 'prospect',
        nationality: 'GB',
        owner_user_id: chloe,
        notes: 'Met in\r\nCork',
        name: 'Juniper Holdings',
      },
      after: {
        status: 'serviced_client',
        nationality: 'IE',
        owner_user_id: omar,
        notes: 'Met in Cork',
        name: 'Juniper Holdings',
      },
    },
    names,
  )
  t.equal(
    sentence,
    'Chloe Compliance changed Juniper Holdings: Nationality from United Kingdom to Ireland; Owner from Chloe Compliance to Omar Owner; Relationship status from Prospect to Serviced client (business relationship); Notes: spacing or line breaks changed.',
  )
  t.notMatch(sentence, /[0-9a-f]{8}-|\\r|\\n|GB|IE\b/, 'no id, code or line break')
})

t.test('permissions, groups and shares read as sentences too', async (t) => {
  t.same(changesInWords({ granted: ['read_data'] }, { granted: ['edit_entities', 'view_reports'] }, names), [
    'Switched on: Edit Entities, View Reports',
    'Switched off: Read Data',
  ])
  t.equal(
    auditSentence(
      {
        action: 'group.changed',
        actor_name: 'Ada Admin',
        target: 'Onboarding',
        before: { name: 'Onboarding', members: [chloe] },
        after: { name: 'Onboarding', members: [omar], added: [omar], removed: [chloe] },
      },
      names,
    ),
    'Ada Admin changed the group Onboarding: Members added: Omar Owner; Members removed: Chloe Compliance.',
  )
  t.equal(
    auditSentence(
      {
        action: 'sharing.added',
        actor_name: 'Ada Admin',
        target: 'Juniper',
        before: null,
        after: { user: omar, name: 'Omar Owner' },
      },
      names,
    ),
    'Ada Admin shared Juniper: User: Omar Owner.',
  )
  t.equal(
    auditSentence({ action: 'auth.login', actor_name: 'Ada Admin', before: null, after: null }, names),
    'Ada Admin signed in.',
  )
  t.equal(actionLabel('user.permissions_changed'), 'Permissions changed')
  t.equal(actionLabel('something.new'), 'something.new', 'an action without words yet shows its key')
  t.same(userIdsIn([{ before: { owner_user_id: chloe }, after: { members: [omar], user: 'not-an-id' } }]).sort(), [
    chloe,
    omar,
  ])
})

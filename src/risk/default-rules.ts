import type { RuleSetDefinition } from './evaluate.js'

/**
 * The rule set a company starts from: one rule or more for each kind of fact (entity type and legal form,
 * country lists, service risk, delivery channel, expected volume, cash). Administrators change it as a
 * draft and publish it as a new version; a published version is never changed.
 */
export const DEFAULT_RULE_SET: RuleSetDefinition = {
  aggregation: 'weighted_average',
  weights: { customer: 1, geography: 1, products: 1, delivery: 1, transactions: 1 },
  base: { customer: 2, geography: 2, products: 2, delivery: 3, transactions: 2 },
  thresholds: { medium: 5, high: 7 },
  rules: [
    {
      id: 'trust_or_foundation',
      label: 'The legal form is a trust or a foundation',
      pillar: 'customer',
      when: { in: [{ var: 'legal_form' }, ['trust', 'foundation']] },
      score: 7,
    },
    {
      id: 'organisation_without_form',
      label: 'A non-individual without a legal form on record',
      pillar: 'customer',
      when: { and: [{ '==': [{ var: 'kind' }, 'organisation'] }, { '!': { var: 'legal_form' } }] },
      points: 1,
    },
    {
      id: 'pep',
      label: 'A politically exposed person',
      pillar: 'customer',
      when: { var: 'pep' },
      score: 8,
    },
    {
      id: 'increased_monitoring',
      label: 'A country of the client is under FATF increased monitoring',
      pillar: 'geography',
      when: { in: ['fatf_increased_monitoring', { var: 'country_lists' }] },
      score: 6,
    },
    {
      id: 'high_risk_country',
      label: 'A country of the client is a high-risk third country (EU) or under an FATF call for action',
      pillar: 'geography',
      when: {
        or: [
          { in: ['eu_high_risk', { var: 'country_lists' }] },
          { in: ['fatf_call_for_action', { var: 'country_lists' }] },
        ],
      },
      score: 9,
    },
    {
      id: 'high_risk_service',
      label: 'A service of the client is high risk',
      pillar: 'products',
      when: { '==': [{ var: 'highest_service_risk' }, 'high'] },
      score: 7,
    },
    {
      id: 'medium_risk_service',
      label: 'A service of the client is medium risk',
      pillar: 'products',
      when: { '==': [{ var: 'highest_service_risk' }, 'medium'] },
      score: 5,
    },
    {
      id: 'face_to_face',
      label: 'Met face to face',
      pillar: 'delivery',
      when: { '==': [{ var: 'delivery_channel' }, 'face_to_face'] },
      points: -2,
    },
    {
      id: 'intermediary',
      label: 'Introduced through an intermediary',
      pillar: 'delivery',
      when: { '==': [{ var: 'delivery_channel' }, 'intermediary'] },
      score: 6,
    },
    {
      id: 'volume_over_1m',
      label: 'Expected yearly volume over 1 million',
      pillar: 'transactions',
      when: { '==': [{ var: 'volume_band' }, 'over_1m'] },
      score: 7,
    },
    {
      id: 'volume_100k_1m',
      label: 'Expected yearly volume from 100,000 to 1 million',
      pillar: 'transactions',
      when: { '==': [{ var: 'volume_band' }, '100k_1m'] },
      score: 5,
    },
    {
      id: 'cash_intensive',
      label: 'A cash-intensive business',
      pillar: 'transactions',
      when: { var: 'cash_intensive' },
      points: 2,
    },
  ],
}

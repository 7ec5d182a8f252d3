/**
 * The country lists KYC Desk ships: every company starts from these as version 1 of each list, and its
 * administrators keep them current (Settings → Country lists), since the FATF revises its lists three
 * times a year and the Commission amends the EU list by delegated regulation.
 *
 * Each list is as published on its "as at" day, checked against the sources named, and no later: a list
 * whose day is long past says so on its page. Codes are ISO 3166-1 alpha-2.
 */
export const COUNTRY_LIST_KEYS = ['fatf_call_for_action', 'fatf_increased_monitoring', 'eu_high_risk'] as const
export type CountryListKey = (typeof COUNTRY_LIST_KEYS)[number]

export interface ShippedCountryList {
  asAt: string
  source: string
  sourceUrl: string
  countries: readonly string[]
}

export const SHIPPED_COUNTRY_LISTS: Record<CountryListKey, ShippedCountryList> = {
  // FATF plenary of 11–13 February 2026: no change to the list. Checked against the FATF statement as
  // reported by the Finnish FSA (Finanssivalvonta, "FATF Plenary and Working Group Meetings 2026") and New
  // Zealand's Department of Internal Affairs (17 February 2026).
  fatf_call_for_action: {
    asAt: '2026-02-13',
    source: 'FATF, "High-Risk Jurisdictions subject to a Call for Action", 13 February 2026',
    sourceUrl: 'https://www.fatf-gafi.org/en/topics/high-risk-and-other-monitored-jurisdictions.html',
    countries: ['IR', 'KP', 'MM'],
  },
  // The October 2025 list with Kuwait and Papua New Guinea added in February 2026, none removed (New
  // Zealand's Department of Internal Affairs, 17 February 2026; the full list as published by SALVUS,
  // 16 February 2026).
  fatf_increased_monitoring: {
    asAt: '2026-02-13',
    source: 'FATF, "Jurisdictions under Increased Monitoring", 13 February 2026',
    sourceUrl: 'https://www.fatf-gafi.org/en/topics/high-risk-and-other-monitored-jurisdictions.html',
    countries: [
      'AO',
      'BG',
      'BO',
      'CD',
      'CI',
      'CM',
      'DZ',
      'HT',
      'KE',
      'KW',
      'LA',
      'LB',
      'MC',
      'NA',
      'NP',
      'PG',
      'SS',
      'SY',
      'VE',
      'VG',
      'VN',
      'YE',
    ],
  },
  // The table in point I of the Annex to Delegated Regulation (EU) 2016/1675 as amended by Delegated
  // Regulation (EU) 2024/163 (in force 7 February 2024; its 25 countries as listed by andreasdolezal.at),
  // with the Democratic People's Republic of Korea and Iran, on the list since 23 September 2016 (HMRC
  // Economic Crime Supervision Handbook, ECSH64830). A later amendment could not be checked against a
  // source when this was written: administrators must bring it up to date.
  eu_high_risk: {
    asAt: '2024-02-07',
    source: 'Commission Delegated Regulation (EU) 2016/1675, Annex, as amended by Delegated Regulation (EU) 2024/163',
    sourceUrl: 'https://eur-lex.europa.eu/eli/reg_del/2016/1675/oj',
    countries: [
      'AE',
      'AF',
      'BB',
      'BF',
      'CD',
      'CM',
      'GI',
      'HT',
      'IR',
      'JM',
      'KP',
      'ML',
      'MM',
      'MZ',
      'NG',
      'PA',
      'PH',
      'SN',
      'SS',
      'SY',
      'TT',
      'TZ',
      'UG',
      'VN',
      'VU',
      'YE',
      'ZA',
    ],
  },
}

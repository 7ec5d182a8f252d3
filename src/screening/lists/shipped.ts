import path from 'node:path'
import { ROOT_DIR } from '../../config.js'

/** Where the lists shipped with KYC Desk are (seeds/sanctions/README.md says what they are). */
export const SHIPPED_LISTS_DIR = path.join(ROOT_DIR, 'seeds', 'sanctions')

/** The shipped lists' files: OFAC's SDN list (its four CSV files) and the UN's consolidated list. */
export const SHIPPED_LIST_FILES: readonly string[] = [
  'ofac-sdn.csv',
  'ofac-alt.csv',
  'ofac-add.csv',
  'ofac-sdn_comments.csv',
  'un-consolidated.xml',
].map((name) => path.join(SHIPPED_LISTS_DIR, name))

/**
 * Data for the evaluation set (evaluation.ts): spelling variants the world uses for the same names, and
 * ordinary names from many cultures for the negatives. Written from general knowledge of transliteration and
 * of common names, not from what the matcher handles: some variants below (kh/h, th/s, j/y, w/v, e/a) the
 * matcher folds, others it has to get from Jaro-Winkler or not at all.
 */

/** Whole-word variants: any spelling of a group may be written as any other. */
export const WORD_VARIANTS: string[][] = [
  ['MOHAMMED', 'MUHAMMAD', 'MOHAMED', 'MOHAMMAD', 'MUHAMMED', 'MOHAMAD', 'MOHAMMET', 'MEHMET'],
  ['AHMED', 'AHMAD', 'AHMET'],
  ['YUSUF', 'YOUSSEF', 'YOUSEF', 'YOUSIF', 'YUSSUF', 'JUSUF', 'YOUSSOUF'],
  ['HUSSEIN', 'HUSAIN', 'HUSSAIN', 'HUSAYN', 'HOSSEIN', 'HUSEIN'],
  ['HASSAN', 'HASAN', 'HASSEN'],
  ['OSAMA', 'USAMA', 'OUSSAMA'],
  ['OMAR', 'UMAR', 'OMER'],
  ['OTHMAN', 'UTHMAN', 'OSMAN', 'USMAN'],
  ['IBRAHIM', 'EBRAHIM', 'IBRAGIM', 'BRAHIM'],
  ['ABDULLAH', 'ABDALLAH', 'ABDULLA', 'ABDALLA'],
  ['MUSTAFA', 'MUSTAPHA', 'MOSTAFA', 'MOUSTAFA'],
  ['MAHMOUD', 'MAHMUD', 'MAHMOOD'],
  ['KHALID', 'KHALED', 'HALID'],
  ['SAEED', 'SAID', 'SAYED', 'SAEID'],
  ['HAMID', 'HAMED', 'HAMEED'],
  ['RAHMAN', 'REHMAN', 'RAHMANE'],
  ['JAMAL', 'GAMAL', 'DJAMAL'],
  ['MUSA', 'MOUSA', 'MOUSSA', 'MOOSA'],
  ['ISSA', 'ISA', 'EISA'],
  ['YAHYA', 'YAHIA', 'YEHIA'],
  ['SULEIMAN', 'SULAYMAN', 'SULAIMAN', 'SOLIMAN', 'SULEYMAN'],
  ['FAISAL', 'FAYSAL', 'FEISAL'],
  ['SAIF', 'SAYF', 'SEIF'],
  ['NASSER', 'NASIR', 'NASER', 'NACER'],
  ['QASIM', 'KASSEM', 'QASSEM', 'KASIM', 'QASEM'],
  ['ABU', 'ABOU', 'ABO'],
  ['ISMAIL', 'ISMAEL', 'ESMAIL'],
  ['SERGEY', 'SERGEI', 'SERGIY', 'SERHIY'],
  ['ALEKSANDR', 'ALEXANDER', 'ALEXANDR', 'OLEKSANDR', 'ALEKSANDER'],
  ['YURI', 'YURIY', 'YURY', 'IOURI', 'JURIJ'],
  ['DMITRIY', 'DMITRI', 'DMITRY'],
  ['ANDREY', 'ANDREI', 'ANDRIY'],
  ['ALEKSEY', 'ALEXEI', 'ALEKSEI', 'OLEKSIY'],
  ['MIKHAIL', 'MIHAIL', 'MICHAIL'],
  ['EVGENIY', 'YEVGENIY', 'EVGENY', 'YEVGENY'],
  ['NIKOLAY', 'NIKOLAI', 'MYKOLA'],
  ['VLADIMIR', 'WLADIMIR', 'VOLODYMYR'],
  ['VIKTOR', 'VICTOR'],
  ['ARKADIY', 'ARKADY', 'ARKADI'],
  ['GENNADIY', 'GENNADY', 'GENADI'],
  ['ZHANG', 'CHANG', 'CHEUNG'],
]

/** Spelling rules inside words, applied where they fit: [pattern, replacement]. */
export const SPELLING_RULES: [RegExp, string][] = [
  [/OV$/, 'OFF'],
  [/OFF$/, 'OV'],
  [/EV$/, 'EFF'],
  [/SKIY$/, 'SKY'],
  [/SKY$/, 'SKI'],
  [/IY$/, 'Y'],
  [/EI$/, 'EY'],
  [/EY$/, 'EI'],
  [/^Q/, 'K'],
  [/Q/, 'K'],
  [/^KA/, 'QA'],
  [/OU/, 'U'],
  [/([^AEIOU])U([^AEIOU])/, '$1OU$2'],
  [/EE/, 'I'],
  [/([^AEIOU])I([^AEIOU])/, '$1EE$2'],
  [/KS/, 'X'],
  [/X/, 'KS'],
  [/KH/, 'H'],
  [/ZH/, 'J'],
  [/PH/, 'F'],
  [/TH/, 'S'],
  [/DJ/, 'J'],
  [/^J/, 'Y'],
  [/^Y/, 'J'],
  [/W/, 'V'],
  [/([BDFGKLMNPRSTZ])\1/, '$1'],
  [/([AEIOU])([BDFGKLMNPRSTZ])([AEIOU])/, '$1$2$2$3'],
]

/** Ordinary given and family names from many cultures: [given names, family names]. */
export const CULTURES: [string[], string[]][] = [
  [
    ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth', 'David'],
    ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', 'Thomas'],
  ],
  [
    ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Ava', 'Noah', 'Emily', 'Charlie', 'Sophie', 'Jack', 'Grace'],
    ['Clarke', 'Walker', 'Wright', 'Robinson', 'Thompson', 'Evans', 'Roberts', 'Hughes', 'Edwards', 'Green', 'Hall'],
  ],
  [
    ['José', 'María', 'Juan', 'Carmen', 'Luis', 'Ana', 'Carlos', 'Lucía', 'Javier', 'Marta', 'Diego', 'Sofía'],
    ['García', 'Rodríguez', 'Martínez', 'López', 'Sánchez', 'Pérez', 'Gómez', 'Fernández', 'Díaz', 'Moreno'],
  ],
  [
    ['João', 'Ana', 'Pedro', 'Beatriz', 'Tiago', 'Mariana', 'Rafael', 'Inês', 'Gabriel', 'Larissa', 'Lucas'],
    ['Silva', 'Santos', 'Oliveira', 'Souza', 'Costa', 'Pereira', 'Almeida', 'Carvalho', 'Ribeiro', 'Lima'],
  ],
  [
    ['Lukas', 'Anna', 'Jonas', 'Lena', 'Felix', 'Hannah', 'Maximilian', 'Laura', 'Paul', 'Katharina', 'Jan'],
    ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schulz'],
  ],
  [
    ['Camille', 'Louis', 'Chloé', 'Hugo', 'Manon', 'Arthur', 'Léa', 'Jules', 'Inès', 'Théo', 'Juliette'],
    ['Martin', 'Bernard', 'Dubois', 'Durand', 'Leroy', 'Moreau', 'Laurent', 'Lefebvre', 'Girard', 'Roux'],
  ],
  [
    ['Giulia', 'Marco', 'Francesca', 'Alessandro', 'Chiara', 'Lorenzo', 'Sara', 'Matteo', 'Elena', 'Andrea'],
    ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco'],
  ],
  [
    ['Ivan', 'Olga', 'Pavel', 'Natalia', 'Maxim', 'Tatiana', 'Artem', 'Svetlana', 'Kirill', 'Irina', 'Roman'],
    ['Smirnov', 'Kuznetsova', 'Popov', 'Sokolova', 'Lebedev', 'Novikova', 'Morozov', 'Volkova', 'Pavlov', 'Belov'],
  ],
  [
    ['Piotr', 'Katarzyna', 'Tomasz', 'Agnieszka', 'Krzysztof', 'Magdalena', 'Marek', 'Joanna', 'Paweł', 'Ewa'],
    ['Nowak', 'Kowalski', 'Wiśniewska', 'Wójcik', 'Kamiński', 'Lewandowska', 'Zieliński', 'Szymańska', 'Dąbrowski'],
  ],
  [
    ['Mohammed', 'Fatima', 'Ahmed', 'Aisha', 'Omar', 'Layla', 'Youssef', 'Mariam', 'Khalid', 'Nour', 'Tariq'],
    ['Haddad', 'Khoury', 'Nasser', 'Mansour', 'Saleh', 'Aziz', 'Hamdan', 'Jaber', 'Barakat', 'Sabbagh', 'Najjar'],
  ],
  [
    ['Mehmet', 'Ayşe', 'Mustafa', 'Zeynep', 'Emre', 'Elif', 'Burak', 'Merve', 'Hakan', 'Esra', 'Murat'],
    ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Yıldız', 'Aydın', 'Öztürk', 'Arslan', 'Doğan', 'Koç'],
  ],
  [
    ['Reza', 'Maryam', 'Ali', 'Zahra', 'Amir', 'Fatemeh', 'Mehdi', 'Narges', 'Hamid', 'Leila', 'Saeed'],
    ['Ahmadi', 'Mohammadi', 'Karimi', 'Rezaei', 'Moradi', 'Jafari', 'Rahimi', 'Ghasemi', 'Sadeghi', 'Tehrani'],
  ],
  [
    ['Rahul', 'Priya', 'Amit', 'Sunita', 'Vikram', 'Anjali', 'Arjun', 'Deepa', 'Sanjay', 'Kavita', 'Rohan'],
    ['Sharma', 'Patel', 'Singh', 'Kumar', 'Gupta', 'Reddy', 'Iyer', 'Nair', 'Mehta', 'Joshi', 'Chopra'],
  ],
  [
    ['Wei', 'Fang', 'Jun', 'Li Na', 'Hao', 'Xiu Ying', 'Lei', 'Mei', 'Jian', 'Yan', 'Tao'],
    ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu'],
  ],
  [
    ['Hiroshi', 'Yuki', 'Takeshi', 'Sakura', 'Kenji', 'Aiko', 'Daiki', 'Haruka', 'Sota', 'Yui', 'Ren'],
    ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato'],
  ],
  [
    ['Min-jun', 'Seo-yeon', 'Ji-hoon', 'Ji-woo', 'Hyun-woo', 'Soo-ah', 'Dong-hyun', 'Ha-eun', 'Jae-won'],
    ['Park', 'Choi', 'Jung', 'Kang', 'Cho', 'Yoon', 'Jang', 'Lim', 'Han', 'Shin', 'Seo'],
  ],
  [
    ['Minh', 'Lan', 'Huy', 'Thao', 'Tuan', 'Linh', 'Duc', 'Hoa', 'Quang', 'Mai', 'Thanh'],
    ['Nguyen', 'Tran', 'Pham', 'Hoang', 'Phan', 'Vu', 'Dang', 'Bui', 'Do', 'Ngo', 'Duong'],
  ],
  [
    ['Chinedu', 'Ngozi', 'Emeka', 'Amaka', 'Oluwaseun', 'Funmilayo', 'Tunde', 'Chiamaka', 'Ifeanyi', 'Kemi'],
    ['Okafor', 'Adeyemi', 'Okonkwo', 'Balogun', 'Eze', 'Nwosu', 'Adebayo', 'Obi', 'Olawale', 'Chukwu'],
  ],
  [
    ['Kwame', 'Ama', 'Kofi', 'Akosua', 'Wanjiru', 'Kamau', 'Achieng', 'Otieno', 'Thabo', 'Lerato', 'Sipho'],
    ['Mensah', 'Boateng', 'Asante', 'Owusu', 'Mwangi', 'Odhiambo', 'Kiprop', 'Nkosi', 'Dlamini', 'Mokoena'],
  ],
  [
    ['Lars', 'Ingrid', 'Erik', 'Astrid', 'Magnus', 'Sigrid', 'Anders', 'Freya', 'Nils', 'Karin', 'Henrik'],
    ['Hansen', 'Johansson', 'Nielsen', 'Andersson', 'Larsen', 'Karlsson', 'Pedersen', 'Nilsson', 'Berg'],
  ],
  [
    ['Sean', 'Aoife', 'Ciaran', 'Niamh', 'Declan', 'Siobhan', 'Padraig', 'Orla', 'Eoin', 'Roisin'],
    ["O'Brien", 'Murphy', 'Kelly', "O'Sullivan", 'Walsh', "O'Connor", 'McCarthy', 'Byrne', 'Ryan', 'Doyle'],
  ],
  [
    ['Jose Maria', 'Maria Luisa', 'Juan Carlos', 'Ana Sofia', 'Luis Fernando', 'Carlos Alberto'],
    ['Hernandez Lopez', 'Garcia Ramirez', 'Martinez Torres', 'Gonzalez Flores', 'Ramos Castillo', 'Vargas Ruiz'],
  ],
]

/** Invented companies: a word, a trade, a legal form. */
export const COMPANY_WORDS: [string[], string[], string[]] = [
  ['Northwind', 'Bluewater', 'Silverline', 'Greenfield', 'Redwood', 'Summit', 'Harbour', 'Crescent', 'Oakridge'],
  ['Logistics', 'Bakery', 'Consulting', 'Textiles', 'Dental Care', 'Software', 'Printing', 'Farms', 'Architects'],
  ['Ltd', 'LLC', 'GmbH', 'S.A.', 'Inc.', 'B.V.', 'Pty Ltd', 'S.R.L.', 'AB', ''],
]

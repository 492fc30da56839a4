// CSV read as spreadsheet tools read it (issue 10): stray quotes, ragged rows, other delimiters,
// and every row indexed with its column names and its row number.
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { chunkDocument } from '../../rag/chunk.ts';
import { CorruptDocumentError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import { defaultLimits, extractFixture, fixturePath } from './fixtures.ts';

test('reads a quote inside an unquoted field as a character (csv-spectrum location_coordinates)', async (t) => {
  const document = await extractFixture('csv-spectrum/location_coordinates.csv');
  t.is(
    document.text,
    'Row 2 — Contact Phone Number: 2095257564; Location Coordinates: 37\uFFFD36\'37.8"N 121\uFFFD2\'17.9"W; ' +
      'Cities: Modesto; Counties: Stanislaus',
  );
});

test('yields the records csv-spectrum expects, one line of "column: value" pairs each', async (t) => {
  for (const name of ['comma_in_quotes', 'escaped_quotes', 'quotes_and_newlines', 'json', 'empty']) {
    const document = await extractFixture(`csv-spectrum/${name}.csv`);
    const records = JSON.parse(await readFile(fixturePath(`csv-spectrum/${name}.json`), 'utf8')) as Array<
      Record<string, string>
    >;
    const expected = records.map((record, index) => {
      const pairs = Object.entries(record).filter(([, value]) => value !== '');
      return `Row ${index + 2} — ${pairs.map(([key, value]) => `${key}: ${value.replace(/\s*\n\s*/g, ' ')}`).join('; ')}`;
    });
    t.is(document.text, expected.join('\n'), name);
  }
});

test('tolerates ragged rows and keeps the row numbers a spreadsheet shows', async (t) => {
  const document = await extractFixture('weather-stations.csv');
  t.is(
    document.text,
    [
      'Row 2 — Station: Mount Diablo Summit; Latitude: 37°52\'55.0"N; Longitude: 121°54\'50.6"W; Elevation (m): 1173; ' +
        'Operator: Cal Fire; Notes: Anemometer on the north mast; reads high in "Diablo winds"',
      'Row 3 — Station: Point Reyes Lighthouse; Latitude: 37°59\'44.7"N; Longitude: 123°01\'23.2"W; Elevation (m): 90; ' +
        'Operator: NPS',
      'Row 5 — Station: Farallon Islands; Latitude: 37°41\'53.0"N; Longitude: 123°00\'07.0"W; Operator: USFWS; ' +
        'Notes: Solar powered. Visited by boat twice a year; column 7: seasonal',
      'Row 6 — Station: Half Moon Bay Airport; Latitude: 37°30\'48.6"N; Longitude: 122°30\'04.3"W; Elevation (m): 20',
    ].join('\n'),
  );
  t.deepEqual(document.metadata, { rows: 4, columns: 6 });
});

test('uses the semicolon delimiter of a spreadsheet export in a decimal-comma locale', async (t) => {
  const bytes = Buffer.from('Artikel;Menge;Preis (€)\r\nKaffee, gemahlen;2;3,50\r\nTee;1;4,20\r\n');
  const document = await extractText({ bytes, filename: 'bestellung.csv' }, defaultLimits);
  t.is(
    document.text,
    'Row 2 — Artikel: Kaffee, gemahlen; Menge: 2; Preis (€): 3,50\nRow 3 — Artikel: Tee; Menge: 1; Preis (€): 4,20',
  );
});

test('every chunk of a long csv names its rows and their columns', async (t) => {
  const header = 'Station,Reading (mm),Date';
  const rows = Array.from(
    { length: 60 },
    (_, index) => `Gauge ${index + 1},${(index * 1.7).toFixed(1)},2025-04-0${(index % 9) + 1}`,
  );
  const bytes = Buffer.from([header, ...rows].join('\n'));
  const document = await extractText({ bytes, filename: 'rain.csv' }, defaultLimits);
  const chunks = await chunkDocument(document, { chunkSize: 300, chunkOverlap: 0 });
  t.true(chunks.length > 3);
  for (const chunk of chunks) {
    for (const line of chunk.text.split('\n'))
      t.regex(line, /^Row \d+ — Station: Gauge \d+; Reading \(mm\): [\d.]+; Date: 2025-04-0\d$/);
  }
});

test('still refuses a quote opened and never closed', async (t) => {
  const error = await t.throwsAsync(
    extractText({ bytes: Buffer.from('a,b\n"unclosed,1\n2,3\n'), filename: 'broken.csv' }, defaultLimits),
    { instanceOf: CorruptDocumentError },
  );
  t.regex(error.reason, /^Quote Not Closed/);
});

// HTML as people read it (issue 10): tables as rows that keep their header and caption, sub-
// and superscripts kept apart, the <title> indexed, and app-shell pages not indexed as noise.
import test from 'ava';
import { chunkDocument } from '../../rag/chunk.ts';
import { EmptyDocumentError } from '../../rag/errors.ts';
import { extractText } from '../../rag/extract/index.ts';
import { defaultLimits, extractFixture } from './fixtures.ts';

const extractHtml = (html: string) => extractText({ bytes: Buffer.from(html), filename: 'page.html' }, defaultLimits);

test('renders a table as its caption, then one line of "header: value" pairs per row', async (t) => {
  const document = await extractFixture('planets.html');
  const table = document.sections.find((section) => section.location.heading === 'Physical characteristics');
  t.is(
    table?.text,
    [
      'Physical characteristics',
      '',
      'Mass, radius and moons of the planets',
      'Planet: Mercury; Mass (kg): 3.30 × 10^23; Mean radius (km): 2,440; Known moons: 0',
      'Planet: Venus; Mass (kg): 4.87 × 10^24; Mean radius (km): 6,052; Known moons: 0',
      'Planet: Earth; Mass (kg): 5.97 × 10^24; Mean radius (km): 6,371; Known moons: 1',
      'Planet: Mars; Mass (kg): 6.42 × 10^23; Mean radius (km): 3,390; Known moons: 2',
      'Planet: Jupiter; Mass (kg): 1.90 × 10^27; Mean radius (km): 69,911; Known moons: 95',
      'Planet: Saturn; Mass (kg): 5.68 × 10^26; Mean radius (km): 58,232; Known moons: 146',
      'Planet: Uranus; Mass (kg): 8.68 × 10^25; Mean radius (km): 25,362; Known moons: 28',
      'Planet: Neptune; Mass (kg): 1.02 × 10^26; Mean radius (km): 24,622; Known moons: 16',
    ].join('\n'),
  );
});

test('every chunk of a long table names the columns of its rows', async (t) => {
  const document = await extractFixture('planets.html');
  const chunks = await chunkDocument(document, { chunkSize: 200, chunkOverlap: 0, minChunkSize: 0 });
  const withRows = chunks.filter((chunk) => chunk.text.includes(' × 10'));
  t.true(withRows.length > 2);
  const rowLines = withRows.flatMap((chunk) => chunk.text.split('\n')).filter((line) => line.includes(' × 10'));
  t.is(rowLines.length, 8);
  for (const line of rowLines) {
    t.regex(line, /^Planet: \w+; Mass \(kg\): [\d.]+ × 10\^\d+; Mean radius \(km\): [\d,]+; Known moons: \d+$/);
  }
});

test('keeps sub- and superscripts apart from the text before them', async (t) => {
  const document = await extractFixture('planets.html');
  t.true(document.text.includes('5.97 × 10^24'));
  t.true(document.text.includes('a dense atmosphere of CO_2; the giant planets are mostly H_2 and He.'));
  t.true(document.text.includes('nearly circular paths^[1].'));
});

test('indexes the title as the first line when the page does not open with it', async (t) => {
  const document = await extractFixture('planets.html');
  t.deepEqual(document.sections[0], {
    text: 'Planets of the Solar System – Quarry Encyclopedia',
    location: {},
    start: 0,
    end: 49,
  });
  t.is(document.sections[1]?.location.heading, 'Planets');
  t.deepEqual(document.metadata, { title: 'Planets of the Solar System – Quarry Encyclopedia' });
  t.false(document.text.includes('Random article'), 'aria-hidden navigation is not text');
});

test('stacks header rows and fills colspan and rowspan cells', async (t) => {
  const document = await extractHtml(
    '<table><thead><tr><th rowspan="2">Station</th><th colspan="2">Rainfall (mm)</th></tr>' +
      '<tr><th>March</th><th>April</th></tr></thead>' +
      '<tbody><tr><td rowspan="2">Lyon</td><td>52</td><td>61</td></tr><tr><td>49</td><td>70</td></tr></tbody></table>',
  );
  t.is(
    document.text,
    'Station: Lyon; Rainfall (mm) / March: 52; Rainfall (mm) / April: 61\n' +
      'Station: Lyon; Rainfall (mm) / March: 49; Rainfall (mm) / April: 70',
  );
});

test('renders a docx table without a header row as cells joined by bars (mammoth.js tables.docx)', async (t) => {
  const document = await extractFixture('mammoth/tables.docx');
  t.is(document.text, 'Above\n\nTop left | Top right\nBottom left | Bottom right\n\nBelow');
});

test('renders a layout table holding headings as blocks, keeping its headings', async (t) => {
  const document = await extractHtml(
    '<table><tr><td><h1>Field notes</h1><p>Owls nest in the barn.</p></td><td><h2>Sightings</h2><p>Two barn owls.</p></td></tr></table>',
  );
  t.deepEqual(
    document.sections.map(({ text, location }) => ({ text, location })),
    [
      { text: 'Field notes\n\nOwls nest in the barn.', location: { heading: 'Field notes' } },
      { text: 'Sightings\n\nTwo barn owls.', location: { heading: 'Sightings' } },
    ],
  );
});

test('does not index an app shell of scripts and a loading spinner', async (t) => {
  const error = await t.throwsAsync(extractFixture('app-shell.html'), { instanceOf: EmptyDocumentError });
  t.is(error.message, 'The html document "app-shell.html" contains no extractable text');
});

import test from 'ava';
import { textSearchConfigOf } from '../../rag/text/language.ts';

const english =
  'The survey team measured the retreat of the glacier in spring, and the findings were compared with ' +
  'those of the previous decade, when the meltwater discharge was about half of what it is now.';

test('english prose is indexed with the english configuration', (t) => {
  t.is(textSearchConfigOf(english), 'english');
  t.is(textSearchConfigOf(`“${english.replaceAll("'", '’')}”`), 'english');
});

test('prose in another language, or in another script, falls back to simple', (t) => {
  const french =
    'Les concasseurs de la carrière nord tournaient à pleine charge pendant presque toute la semaine, ' +
    'et les opérateurs ont constaté que les nouvelles mâchoires résistaient bien au granit plus dur.';
  const german =
    'Die Brecher im nördlichen Steinbruch liefen fast die ganze Woche unter Volllast, und die Bediener ' +
    'stellten fest, dass die neuen Backen dem härteren Granit aus der unteren Sohle gut standhielten.';
  t.is(textSearchConfigOf(french), 'simple');
  t.is(textSearchConfigOf(german), 'simple');
  t.is(textSearchConfigOf('すみません。東京都の採石場は、月曜日に休みます。'), 'simple');
  t.is(textSearchConfigOf('Карьер закрыт в понедельник, отгрузка гранита во вторник.'), 'simple');
  t.is(textSearchConfigOf(`Quarry report\n\n${'東京都の採石場は、月曜日に休みます。'.repeat(3)}`), 'simple');
});

test('a text too short to tell keeps the english default', (t) => {
  t.is(textSearchConfigOf('Gate closes at six.'), 'english');
  t.is(textSearchConfigOf('Granit, Basalt, Kalkstein'), 'english');
});

// COPY … FROM STDIN (FORMAT binary) with the plain `pg` client, without pg-copy-streams: the
// rows are encoded in PostgreSQL's binary COPY format and sent through pg's Submittable hook
// (the client hands the query the connection and forwards the protocol messages to it).
// The baseline the RLS write path is measured against.
import type pg from 'pg';

export type CopyColumnType = 'uuid' | 'int4' | 'text' | 'vector';
export type CopyValue = string | number | readonly number[] | null;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const CHUNK_BYTES = 64 * 1024;

function field(type: CopyColumnType, value: CopyValue): Buffer {
  switch (type) {
    case 'uuid':
      return Buffer.from((value as string).replaceAll('-', ''), 'hex');
    case 'int4': {
      const buffer = Buffer.alloc(4);
      buffer.writeInt32BE(value as number);
      return buffer;
    }
    case 'text':
      return Buffer.from(value as string, 'utf8');
    case 'vector': {
      // pgvector's vector_recv: int16 dimensions, int16 unused, then float4 each.
      const vector = value as readonly number[];
      const buffer = Buffer.alloc(4 + 4 * vector.length);
      buffer.writeInt16BE(vector.length, 0);
      vector.forEach((component, i) => buffer.writeFloatBE(component, 4 + 4 * i));
      return buffer;
    }
  }
}

/** The rows in PostgreSQL's binary COPY format: header, tuples, trailer. */
export function encodeBinaryCopy(types: readonly CopyColumnType[], rows: readonly (readonly CopyValue[])[]): Buffer {
  const parts: Buffer[] = [SIGNATURE, Buffer.alloc(8)]; // flags and header-extension length, both 0
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(types.length);
    parts.push(count);
    types.forEach((type, i) => {
      const value = row[i] ?? null;
      const length = Buffer.alloc(4);
      if (value === null) {
        length.writeInt32BE(-1);
        parts.push(length);
        return;
      }
      const bytes = field(type, value);
      length.writeInt32BE(bytes.length);
      parts.push(length, bytes);
    });
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  parts.push(trailer);
  return Buffer.concat(parts);
}

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** A COPY FROM STDIN that pg's client runs like any query; `done` settles with the row count. */
class CopyIn implements pg.Submittable {
  readonly done: Promise<number>;
  private resolve!: (rows: number) => void;
  private reject!: (error: Error) => void;
  private rows = 0;

  constructor(
    private readonly text: string,
    private readonly payload: Buffer,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    (connection as unknown as CopyConnection).query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    for (let start = 0; start < this.payload.length; start += CHUNK_BYTES) {
      connection.sendCopyFromChunk(this.payload.subarray(start, start + CHUNK_BYTES));
    }
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text: string }): void {
    this.rows = Number(/^COPY (\d+)/.exec(message.text)?.[1] ?? 0);
  }

  handleReadyForQuery(): void {
    this.resolve(this.rows);
  }

  handleError(error: Error): void {
    this.reject(error);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Copies the rows into `table` (columns in the given order) in one COPY; answers the row count. */
export async function copyBinary(
  client: pg.Client,
  table: string,
  columns: readonly { name: string; type: CopyColumnType }[],
  rows: readonly (readonly CopyValue[])[],
): Promise<number> {
  const names = columns.map((column) => client.escapeIdentifier(column.name)).join(', ');
  const payload = encodeBinaryCopy(
    columns.map((column) => column.type),
    rows,
  );
  const copy = new CopyIn(`COPY ${client.escapeIdentifier(table)} (${names}) FROM STDIN (FORMAT binary)`, payload);
  client.query(copy);
  return copy.done;
}

// Read any splat file with @playcanvas/splat-transform's own readers and print its columns
// as JSON: {count, columns: {x: [...], f_dc_0: [...], rot_0: [...], ...}} (raw PLY encodings).
// Usage: node read_splat_transform.mjs IN OUT.json
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  MemoryReadFileSystem, createChunkDataPool, getInputFormat, materializeToDataTable, readFile,
} from '@playcanvas/splat-transform';

const [input, output] = process.argv.slice(2);
const fileSystem = new MemoryReadFileSystem();
const filename = path.basename(input);
fileSystem.set(filename, new Uint8Array(fs.readFileSync(input)));
const sources = await readFile({ filename, inputFormat: getInputFormat(filename), fileSystem });
const pool = createChunkDataPool();
const table = await materializeToDataTable(sources[0], pool);
const columns = {};
for (const col of table.columns) columns[col.name] = Array.from(col.data);
for (const source of sources) source.close?.();
fs.writeFileSync(output, JSON.stringify({ count: table.numRows, columns }));

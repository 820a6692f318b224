// Benchmark peer: build a .ksplat from a PLY with GaussianSplats3D's own PLY parser and
// splat-buffer generator (what the repository's util/create-ksplat.js does; that script is
// not in the npm package).
// Usage: node create_ksplat.mjs IN.ply OUT.ksplat [level=1] [shDegree=0] [minAlpha=1]
import * as fs from 'node:fs';

globalThis.window = globalThis;
const GS = await import('@mkkellogg/gaussian-splats-3d');
const THREE = await import('three');

const [input, output, level = '1', shDegree = '0', minAlpha = '1'] = process.argv.slice(2);
const bytes = fs.readFileSync(input);
const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const splats = GS.PlyParser.parseToUncompressedSplatArray(data, parseInt(shDegree));
const generator = GS.SplatBufferGenerator.getStandardGenerator(
  parseInt(minAlpha), parseInt(level), 0, new THREE.Vector3(), 5.0, 256);
const buffer = generator.generateFromUncompressedSplatArray(splats);
// in 0.4.7 the SplatBuffer holds the whole file (headers + sections) in bufferData
fs.writeFileSync(output, new Uint8Array(buffer.bufferData));

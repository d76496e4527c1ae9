// Builds static/vendor/plotly-scatter-bar-<version>.min.js (+ .gz, .br) from plotly.js's own sources.
//
//   cd tools/plotly-bundle && npm ci && npm run build
//
// The same esbuild settings plotly.js uses for its released dist files (its esbuild-config.js: an IIFE
// named Plotly, target es2016, `global` -> window) and the same stripping of the attribute descriptions
// that only its schema needs, with two differences that are the point of this bundle (issue 14):
//  - entry.js registers scatter and bar only (the basic bundle adds pie and the world-calendars);
//  - the file opens with V8's `//# allFunctionsCalledOnLoad` compile hint. plotly.js runs most of its code
//    while it loads and draws; without the hint Chromium compiles each function lazily on the main
//    thread when it is first called (~450 ms of a cold page's first chart, bench/first_chart.py),
//    with it the whole file is compiled while it streams in, on a background thread.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const plotlyRoot = path.join(here, 'node_modules', 'plotly.js');
const version = JSON.parse(fs.readFileSync(path.join(plotlyRoot, 'package.json'), 'utf8')).version;
const vendor = path.resolve(here, '..', '..', 'static', 'vendor');
const outfile = path.join(vendor, `plotly-scatter-bar-${version}.min.js`);

// Attribute metadata the browser never reads (descriptions, schema-only fields), dropped from plotly.js's
// sources before bundling, as plotly.js's own build does for its dist files. Only a whole string literal, a
// literal array joined into one, or a literal array of names, each the value of its own key.
const STRING = `'(?:[^'\\\\\\n]|\\\\.)*'|"(?:[^"\\\\\\n]|\\\\.)*"`;
const META = [
    ...['description', 'role', 'hrName'].map((key) => new RegExp(`\\s*\\b${key}: (?:${STRING}),?`, 'g')),
    new RegExp('\\s*\\bdescription: \\[[\\s\\S]*?\\]\\.join\\([^)]*\\),?', 'g'),
    ...['requiredOpts', 'otherOpts'].map((key) => new RegExp(`\\s*\\b${key}: \\[[^\\]]*\\],?`, 'g')),
];
const stripMeta = {
    name: 'strip-plotly-attribute-meta',
    setup(build) {
        build.onLoad({ filter: /[\\/]plotly\.js[\\/]src[\\/].*\.js$/ }, async (args) => {
            let source = await fs.promises.readFile(args.path, 'utf8');
            for (const pattern of META) source = source.replace(pattern, '');
            return { contents: source, loader: 'js' };
        });
    },
};

// plotly.js's registry require()s maplibre's stylesheet when a map trace registers (its own build inlines
// the CSS into the JavaScript for that). No map trace registers here, so the require resolves to nothing.
const noMapStylesheet = {
    name: 'no-maplibre-stylesheet',
    setup(build) {
        build.onResolve({ filter: /^maplibre-gl\/dist\/maplibre-gl\.css$/ }, () => ({ path: 'maplibre-gl.css', namespace: 'unused' }));
        build.onLoad({ filter: /.*/, namespace: 'unused' }, () => ({ contents: '', loader: 'js' }));
    },
};

const header = [
    '//# allFunctionsCalledOnLoad',
    '/**',
    `* plotly.js (scatter-bar - minified) v${version}`,
    '* Copyright 2012-2026, Plotly, Inc.',
    '* All rights reserved.',
    '* Licensed under the MIT license',
    '* Built by tokenwatch tools/plotly-bundle (entry.js: core + bar) from the npm package plotly.js',
    '*/',
].join('\n');

const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ['entry.js'],
    outfile,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    target: 'es2016',
    legalComments: 'eof',  // the licence notices of plotly.js's dependencies stay in the file
    banner: { js: header },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    plugins: [stripMeta, noMapStylesheet],
    metafile: true,
    logLevel: 'warning',
});

const bundle = fs.readFileSync(outfile);
const traces = new Set(Object.keys(result.metafile.inputs)
    .map((input) => input.match(/plotly\.js\/src\/traces\/([^/]+)\//)?.[1]).filter(Boolean));
// Helpers that bar and the core borrow from other trace types are fine; their index (the trace module) is not.
for (const input of Object.keys(result.metafile.inputs)) {
    const index = input.match(/plotly\.js\/src\/traces\/([^/]+)\/index\.js$/);
    if (index && !['scatter', 'bar'].includes(index[1])) throw new Error(`trace module ${index[1]} got into the bundle`);
}
fs.writeFileSync(`${outfile}.gz`, zlib.gzipSync(bundle, { level: 9 }));
fs.writeFileSync(`${outfile}.br`, zlib.brotliCompressSync(bundle, {
    params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bundle.length,
    },
}));
const size = (file) => fs.statSync(file).size.toLocaleString('en');
console.log(`${path.relative(process.cwd(), outfile)}  ${size(outfile)} bytes, .gz ${size(`${outfile}.gz`)}, .br ${size(`${outfile}.br`)}`);
console.log(`sources from src/traces/: ${[...traces].sort().join(', ')}`);
console.log(`sha256 ${crypto.createHash('sha256').update(bundle).digest('hex')}`);

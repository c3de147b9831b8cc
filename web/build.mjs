// build.mjs — the dashboard as the host serves it: one boot script, one
// stylesheet and one bundle, made from index.html and the files it names.
//
//   node web/build.mjs <web dir> <node_modules dir> <out dir>
//
// web/index.html loads the readable sources as they are (what --web-root
// serves, for working on the dashboard): two classic scripts in <head>, three
// stylesheets, uPlot, and app.js with its ES modules.  A first visit then
// waits for a dozen requests and as many compiles before the first chart.
// This script, run by web/CMakeLists.txt with esbuild from `npm ci`, writes
// to <out dir>:
//
//   index.html    web/index.html with its <head> rewritten as below
//   boot.js       the blocking classic scripts, in order, minified (the
//                 early WebSocket and the theme, still before any stylesheet)
//   app.css       the stylesheets, in order (uPlot's first), minified
//   app.js        app.js and every module it imports, one minified ES module
//   app.js.map    its source map; the sources it names are the host's own
//                 /app.js and /js/*.js, which are embedded too
//
// In <head>: the first blocking script becomes /dist/boot.js, the first
// stylesheet /dist/app.css and the module script /dist/app.js; the other
// scripts and stylesheets of those kinds and every modulepreload go.
// uPlot's deferred classic script stays as it is (the integration tests
// find it there, and it names things the descriptor check must not see in
// the dashboard's own code).  Comments go; any other tag stays.  The build
// fails on a <head> it does not understand rather than guess.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [webDir, nodeModules, outDir] = process.argv.slice(2).map((p) => p && path.resolve(p));
if (!webDir || !nodeModules || !outDir) {
  console.error('usage: node build.mjs <web dir> <node_modules dir> <out dir>');
  process.exit(2);
}

const esbuild = createRequire(path.join(nodeModules, 'noop.js'))('esbuild');

// URL paths under /vendor/ are files of npm packages (see web/CMakeLists.txt).
const VENDOR = { '/vendor/uPlot.min.css': 'uplot/dist/uPlot.min.css' };

const fail = (msg) => {
  console.error(`web/build.mjs: ${msg}`);
  process.exit(1);
};

/** The file on disk a URL path of the page stands for. */
function fileOf(url) {
  if (!url.startsWith('/') || url.includes('..')) fail(`${url}: not a path on the host`);
  if (url.startsWith('/vendor/')) {
    if (!VENDOR[url]) fail(`${url}: no npm file known for it`);
    return path.join(nodeModules, VENDOR[url]);
  }
  return path.join(webDir, url);
}

const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3]) : null;
};
const has = (tag, name) => new RegExp(`\\s${name}(?=[\\s>=])`, 'i').test(tag);

const html = fs.readFileSync(path.join(webDir, 'index.html'), 'utf8');
const head = /<head>([\s\S]*?)<\/head>/i.exec(html);
if (!head) fail('index.html has no <head>');

// Sort the tags of <head>; `out` keeps the text between them.
const boot = [];
const styles = [];
let entry = null;
const preloads = [];
const out = [];
const tagRe = /<!--[\s\S]*?-->|<script\b[^>]*>[\s\S]*?<\/script>|<link\b[^>]*>|<[^>]+>|[^<]+/gi;
for (const [tok] of head[1].matchAll(tagRe)) {
  if (tok.startsWith('<!--')) {
    continue;                  // notes for whoever reads web/index.html
  } else if (/^<script\b/i.test(tok)) {
    const src = attr(tok, 'src');
    if (!src || !/^<script\b[^>]*>\s*<\/script>$/i.test(tok)) fail(`inline script in <head>: ${tok.slice(0, 80)}`);
    const type = attr(tok, 'type');
    if (type === 'module') {
      if (entry) fail('more than one module script');
      entry = src;
      out.push({ kind: 'entry' });
    } else if (type && type !== 'text/javascript') {
      fail(`script of type ${type}: ${tok}`);
    } else if (has(tok, 'defer') || has(tok, 'async')) {
      if (!src.startsWith('/vendor/')) fail(`a deferred script of our own is not bundled: ${tok}`);
      out.push(tok);
    } else {
      boot.push(src);
      if (boot.length === 1) out.push({ kind: 'boot' });
    }
  } else if (/^<link\b/i.test(tok)) {
    const rel = (attr(tok, 'rel') || '').toLowerCase();
    if (rel === 'stylesheet') {
      if (attr(tok, 'media')) fail(`a stylesheet with a media query: ${tok}`);
      styles.push(attr(tok, 'href'));
      if (styles.length === 1) out.push({ kind: 'style' });
    } else if (rel === 'modulepreload') {
      preloads.push(attr(tok, 'href'));
    } else {
      out.push(tok);
    }
  } else {
    out.push(tok);
  }
}
if (!entry) fail('index.html loads no module script');
if (!boot.length) fail('index.html has no blocking script in <head> (js/early-socket.js)');
if (!styles.length) fail('index.html has no stylesheet');

fs.mkdirSync(outDir, { recursive: true });
const write = (name, text) => {
  const file = path.join(outDir, name);
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
};

// The boot script: classic scripts, concatenated in order (each is an IIFE).
const bootSrc = boot.map((u) => `${fs.readFileSync(fileOf(u), 'utf8').trimEnd()}\n`).join('');
const bootJs = await esbuild.transform(bootSrc, { loader: 'js', minify: true, legalComments: 'none', sourcefile: 'boot.js' });
write('boot.js', bootJs.code);

// The stylesheet: every sheet in order, one minified file.
const css = styles.map((u) => `${fs.readFileSync(fileOf(u), 'utf8').trimEnd()}\n`).join('');
const appCss = await esbuild.transform(css, { loader: 'css', minify: true, legalComments: 'none', sourcefile: 'app.css' });
write('app.css', appCss.code);

// The bundle: app.js and its imports, one ES module, with a source map
// whose sources are the URL paths the host serves them at.
const result = await esbuild.build({
  entryPoints: [fileOf(entry)],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  minify: true,
  legalComments: 'none',
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  write: false,
  outfile: path.join(outDir, 'app.js'),
  logLevel: 'warning',
});
const inputs = new Set(Object.keys(result.metafile.inputs).map((f) => `/${path.relative(webDir, path.resolve(f)).split(path.sep).join('/')}`));
for (const p of preloads) {
  if (!inputs.has(p)) fail(`modulepreload ${p} is not part of the bundle of ${entry}`);
}
for (const f of result.outputFiles) {
  if (f.path.endsWith('.map')) {
    const map = JSON.parse(f.text);
    map.sources = map.sources.map((s) => `/${path.relative(webDir, path.resolve(outDir, s)).split(path.sep).join('/')}`);
    write(path.basename(f.path), `${JSON.stringify(map)}\n`);
  } else {
    write(path.basename(f.path), f.text);
  }
}

// The page: the same document with the new <head>.
const tags = { boot: '<script src="/dist/boot.js"></script>', style: '<link rel="stylesheet" href="/dist/app.css">', entry: '<script type="module" src="/dist/app.js"></script>' };
let newHead = out.map((t) => (typeof t === 'string' ? t : tags[t.kind])).join('');
newHead = newHead.replace(/\n[ \t]*(?=\n)/g, '');  // lines left empty by a dropped tag
write('index.html', html.slice(0, head.index) + `<head>${newHead}</head>` + html.slice(head.index + head[0].length));

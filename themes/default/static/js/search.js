// Parvis default theme: the site search in the browser, for static hosting (parvis serve also
// answers the same form without JavaScript). It reads the index the generator writes under
// search/ (see internal/search, whose rules this file repeats): the manifest, then the shard
// each word of the query is in, then the documents of the hits shown. No framework, nothing
// from elsewhere: a few small files of the site's own origin.
(function () {
  'use strict';
  var root = document.getElementById('search-results');
  var form = document.querySelector('form.search-form');
  if (!root || !form || !window.fetch || !window.TextDecoder || !window.DecompressionStream) return;
  var input = form.elements.q;
  var base = root.getAttribute('data-index') || '/search/';
  var PER_PAGE = 10, MAX_QUERY_BYTES = 256, MAX_TERMS = 8, MIN_PREFIX = 3, MAX_EXPANSIONS = 32;
  var EXCERPT_WORDS = 30, MAX_TERM_BYTES = 40;
  var utf8 = new TextDecoder(), encoder = new TextEncoder();

  // ---- Words: the rules of internal/search/text.go ----
  var ELISIONS = set('l d j m n s t c qu jusqu lorsqu puisqu quoiqu');
  var STOP = {
    fr: set('au aux avec ce ces cet cette dans de des du elle elles en est et eux il ils je la le les leur leurs lui ma mais me mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous'),
    en: set('an and are as at be by for from has have in is it its of on or that the this to was were will with')
  };
  var MONTHS = {
    janvier: 1, fevrier: 2, mars: 3, avril: 4, mai: 5, juin: 6, juillet: 7, aout: 8, septembre: 9,
    octobre: 10, novembre: 11, decembre: 12, january: 1, february: 2, march: 3, april: 4, may: 5,
    june: 6, july: 7, august: 8, september: 9, october: 10, november: 11, december: 12
  };
  var SPECIAL = { 'œ': 'oe', 'æ': 'ae', 'ß': 'ss', 'ø': 'o', 'đ': 'd', 'ł': 'l', 'ı': 'i' };
  var WORD = /[\p{L}\p{N}\p{M}]+/gu;

  function set(words) {
    var m = Object.create(null);
    words.split(' ').forEach(function (w) { m[w] = true; });
    return m;
  }
  function has(m, k) { return Object.prototype.hasOwnProperty.call(m, k); }
  // blen is a string's length in UTF-8 bytes, as the index counts it.
  function blen(s) { return encoder.encode(s).length; }

  function fold(w) {
    return w.normalize('NFKD').replace(/\p{Mn}/gu, '').toLowerCase()
      .replace(/[œæßøđłı]/g, function (c) { return SPECIAL[c]; })
      .replace(/[^\p{L}\p{N}]/gu, '');
  }

  function isNumber(s) { return /^[0-9]+$/.test(s); }

  // split finds the words of s: {fold, start, end, elided}, offsets in s.
  function split(s) {
    s = s.replace(/\u02bc/g, "'"); // a modifier letter apostrophe is an apostrophe
    var out = [], m;
    WORD.lastIndex = 0;
    while ((m = WORD.exec(s))) {
      var f = fold(m[0]), end = m.index + m[0].length;
      out.push({ fold: f, start: m.index, end: end, elided: ELISIONS[f] === true && /^['\u2019\u2018]/.test(s.slice(end, end + 1)) });
    }
    return out;
  }

  function stem(b, lang) {
    var n = blen(b);
    if (n <= 3 || !/[a-z]$/.test(b)) return b;
    function ends(x) { return b.slice(-x.length) === x; }
    if (lang === 'fr') {
      if (ends('aux') && !ends('eaux')) return b.slice(0, -3) + 'al';
      if (ends('ux')) return b.slice(0, -1);
      if (ends('s') && !ends('ss')) return b.slice(0, -1);
    } else if (lang === 'en') {
      if (ends('ies') && n > 4) return b.slice(0, -3) + 'y';
      if (ends('sses') || ends('xes') || ends('zes') || ends('ches') || ends('shes')) return b.slice(0, -2);
      if (ends('s') && !ends('ss') && !ends('us') && !ends('is')) return b.slice(0, -1);
    }
    return b;
  }

  function termOf(w, lang) {
    var f = w.fold;
    if (w.elided || f === '' || blen(f) > MAX_TERM_BYTES) return null;
    if (isNumber(f)) return f.length < 2 ? null : f;
    if (Array.from(f).length < 2 || (STOP[lang] && STOP[lang][f] === true)) return null;
    return stem(f, lang);
  }

  function dayOf(b) {
    if (b && b.length > 2 && b.slice(-2) === 'er') b = b.slice(0, -2);
    if (!b || b.length > 2 || !isNumber(b)) return 0;
    var d = +b;
    return d >= 1 && d <= 31 ? d : 0;
  }
  function monthNumber(b) {
    if (!b || b.length > 2 || !isNumber(b)) return 0;
    var m = +b;
    return m >= 1 && m <= 12 ? m : 0;
  }
  function yearOf(b) {
    if (!b || b.length !== 4 || !isNumber(b)) return 0;
    return +b >= 1000 ? +b : 0;
  }
  function month(b) { return b !== undefined && has(MONTHS, b) ? MONTHS[b] : 0; }

  // dateAt reads a date starting at word i: {from, to, year, month, day} or null.
  function dateAt(s, words, i) {
    function at(k) { return k < words.length ? words[k].fold : undefined; }
    function sep(k) { return k + 1 < words.length ? s.slice(words[k].end, words[k + 1].start) : '\u0000'; }
    var w = at(i), d, m, y;
    if ((d = dayOf(w))) {
      if ((m = month(at(i + 1)))) {
        if ((y = yearOf(at(i + 2)))) return { from: i, to: i + 3, year: y, month: m, day: d };
        return { from: i, to: i + 2, year: 0, month: m, day: d };
      }
      var sp = sep(i);
      if ((sp === '/' || sp === '.') && sep(i + 1) === sp && (m = monthNumber(at(i + 1))) &&
        (y = yearOf(at(i + 2)))) return { from: i, to: i + 3, year: y, month: m, day: d };
      return null;
    }
    if ((m = month(w))) {
      if ((d = dayOf(at(i + 1)))) {
        if ((y = yearOf(at(i + 2)))) return { from: i, to: i + 3, year: y, month: m, day: d };
        return { from: i, to: i + 2, year: 0, month: m, day: d };
      }
      if ((y = yearOf(at(i + 1)))) return { from: i, to: i + 2, year: y, month: m, day: 0 };
      return null;
    }
    if ((y = yearOf(w)) && sep(i) === '-' && sep(i + 1) === '-' && at(i + 1).length === 2 &&
      (m = monthNumber(at(i + 1))) && at(i + 2).length === 2 && (d = dayOf(at(i + 2)))) {
      return { from: i, to: i + 3, year: y, month: m, day: d };
    }
    return null;
  }

  function two(n) { return n < 10 ? '0' + n : '' + n; }
  function dateTerms(d) {
    var out = [];
    if (d.day) {
      if (d.year) out.push('@' + d.year + '-' + two(d.month) + '-' + two(d.day));
      out.push('@' + two(d.month) + '-' + two(d.day));
    }
    if (d.year) out.push('@' + d.year + '-' + two(d.month));
    return out;
  }

  // each calls fn(term, start, end) for each term of s, as the index saw it.
  function each(s, lang, fn) {
    var words = split(s), until = 0;
    for (var i = 0; i < words.length; i++) {
      if (i >= until) {
        var d = dateAt(s, words, i);
        if (d) {
          dateTerms(d).forEach(function (t) { fn(t, words[d.from].start, words[d.to - 1].end); });
          until = d.to;
        }
      }
      var t = termOf(words[i], lang);
      if (t !== null) fn(t, words[i].start, words[i].end);
    }
  }

  function parseQuery(q, lang) {
    var bytes = encoder.encode(q);
    if (bytes.length > MAX_QUERY_BYTES) {
      var n = MAX_QUERY_BYTES;
      while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
      q = utf8.decode(bytes.subarray(0, n));
    }
    var words = split(q), out = [], seen = Object.create(null);
    function add(term, prefix) {
      if (!seen[term] && out.length < MAX_TERMS) {
        seen[term] = true;
        out.push({ term: term, prefix: prefix });
      }
    }
    for (var i = 0; i < words.length; i++) {
      var d = dateAt(q, words, i);
      if (d) { add(dateTerms(d)[0], ''); i = d.to - 1; continue; }
      var t = termOf(words[i], lang);
      if (t === null) continue;
      var f = words[i].fold;
      add(t, !isNumber(f) && Array.from(f).length >= MIN_PREFIX ? f : '');
    }
    return out;
  }

  // ---- The index's files: internal/search/format.go ----
  function Reader(buf) { this.b = new Uint8Array(buf); this.i = 0; }
  Reader.prototype.uint = function () {
    var v = 0, mul = 1, c;
    do {
      if (this.i >= this.b.length) throw new Error('search index: truncated');
      c = this.b[this.i++];
      v += (c & 0x7f) * mul;
      mul *= 128;
    } while (c & 0x80);
    return v;
  };
  Reader.prototype.byte = function () {
    if (this.i >= this.b.length) throw new Error('search index: truncated');
    return this.b[this.i++];
  };
  Reader.prototype.raw = function (n) {
    if (this.i + n > this.b.length) throw new Error('search index: truncated');
    var v = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return v;
  };
  Reader.prototype.str = function () { return utf8.decode(this.raw(this.uint())); };
  Reader.prototype.header = function (magic) {
    var h = utf8.decode(this.raw(4));
    if (h !== magic || this.byte() !== 1) throw new Error('search index: not a ' + magic + ' file of version 1');
  };

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
  function cmp(a, b) {
    for (var i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  function startsWith(a, p) { return a.length >= p.length && cmp(a.subarray(0, p.length), p) === 0; }

  function fetchFile(name, version) {
    var url = base + name + (version ? '?v=' + version : '');
    return fetch(url, { cache: version ? 'default' : 'no-cache', credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.arrayBuffer();
    }).then(function (buf) {
      var b = new Uint8Array(buf);
      if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) return buf; // the host decompressed it
      return new Response(new Blob([buf]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
    });
  }

  var manifest = null, shards = Object.create(null);

  function loadManifest() {
    if (manifest) return manifest;
    manifest = fetchFile('index.bin', '').then(function (buf) {
      var r = new Reader(buf), m = { strings: Object.create(null), firsts: [] };
      r.header('PVSM');
      m.lang = r.str();
      m.version = r.str();
      m.docs = r.uint();
      m.perFile = r.uint();
      for (var n = r.uint(); n > 0; n--) { var k = r.str(); m.strings[k] = r.str(); }
      var prev = new Uint8Array(0);
      for (n = r.uint(); n > 0; n--) {
        var shared = r.uint();
        prev = concat(prev.subarray(0, shared), r.raw(r.uint()));
        m.firsts.push(prev);
      }
      return m;
    });
    manifest.catch(function () { manifest = null; });
    return manifest;
  }

  function loadShard(m, i) {
    if (!shards[i]) {
      shards[i] = fetchFile('t/' + i + '.bin', m.version).then(function (buf) {
        var r = new Reader(buf), entries = [], prev = new Uint8Array(0);
        r.header('PVST');
        for (var n = r.uint(); n > 0; n--) {
          var shared = r.uint();
          prev = concat(prev.subarray(0, shared), r.raw(r.uint()));
          var e = { term: prev, idf: r.byte(), docs: [], scores: [] }, doc = 0;
          for (var k = 0, df = r.uint(); k < df; k++) {
            doc += r.uint();
            e.docs.push(doc);
            e.scores.push(r.byte());
          }
          entries.push(e);
        }
        return entries;
      });
      shards[i].catch(function () { delete shards[i]; });
    }
    return shards[i];
  }

  function shardFor(m, term) {
    var lo = 0, hi = m.firsts.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (cmp(m.firsts[mid], term) > 0) hi = mid; else lo = mid + 1;
    }
    return Math.max(lo - 1, 0);
  }
  function search(entries, term) {
    var lo = 0, hi = entries.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (cmp(entries[mid].term, term) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // lookup finds a query term's entries: the term itself, else the terms it begins (in the
  // shard that would hold the word, and the next one at most).
  function lookup(m, qt) {
    if (!m.firsts.length) return Promise.resolve([]);
    var term = encoder.encode(qt.term);
    return loadShard(m, shardFor(m, term)).then(function (s) {
      var i = search(s, term);
      if (i < s.length && cmp(s[i].term, term) === 0) return [s[i]];
      if (!qt.prefix) return [];
      var prefix = encoder.encode(qt.prefix), si = shardFor(m, prefix), out = [];
      function from(k) {
        if (k >= m.firsts.length || k > si + 1 || out.length >= MAX_EXPANSIONS) return out;
        if (k > si && !startsWith(m.firsts[k], prefix)) return out;
        return loadShard(m, k).then(function (s) {
          for (var i = search(s, prefix); i < s.length && startsWith(s[i].term, prefix) && out.length < MAX_EXPANSIONS; i++) out.push(s[i]);
          return from(k + 1);
        });
      }
      return from(si);
    });
  }

  function intersect(a, b) {
    var out = [], i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i].doc < b[j].doc) i++;
      else if (a[i].doc > b[j].doc) j++;
      else { out.push({ doc: a[i].doc, score: a[i].score + b[j].score }); i++; j++; }
    }
    return out;
  }

  // match runs a parsed query: the documents holding every term, best first, the later
  // document first on a tie; and the terms found, to mark them.
  function match(m, terms) {
    var found = Object.create(null);
    return Promise.all(terms.map(function (qt) { return lookup(m, qt); })).then(function (all) {
      var lists = [];
      for (var qi = 0; qi < all.length; qi++) {
        if (!all[qi].length) return { hits: [], found: found };
        var best = new Map();
        all[qi].forEach(function (e) {
          found[utf8.decode(e.term)] = qi;
          for (var k = 0; k < e.docs.length; k++) {
            var s = e.idf * e.scores[k], d = e.docs[k];
            if (!best.has(d) || best.get(d) < s) best.set(d, s);
          }
        });
        var l = [];
        best.forEach(function (s, d) { l.push({ doc: d, score: s }); });
        l.sort(function (a, b) { return a.doc - b.doc; });
        lists.push(l);
      }
      lists.sort(function (a, b) { return a.length - b.length; });
      var hits = lists[0];
      for (var i = 1; i < lists.length && hits.length; i++) hits = intersect(hits, lists[i]);
      hits.sort(function (a, b) { return b.score - a.score || b.doc - a.doc; });
      return { hits: hits, found: found };
    });
  }

  // A document is a range of its file: its entry in the file's table, then its record. A
  // host that ignores ranges sends the whole file, which is then kept for the other hits.
  var whole = Object.create(null);
  function range(m, name, from, to) {
    if (whole[name]) return whole[name].then(function (b) { return b.slice(from, to); });
    return fetch(base + name + '?v=' + m.version, {
      headers: { Range: 'bytes=' + from + '-' + (to - 1) }, credentials: 'same-origin'
    }).then(function (r) {
      if (r.status === 206) return r.arrayBuffer();
      if (!r.ok) throw new Error(name + ': ' + r.status);
      whole[name] = r.arrayBuffer();
      return whole[name].then(function (b) { return b.slice(from, to); });
    });
  }

  function loadDoc(m, n) {
    var name = 'd/' + Math.floor(n / m.perFile) + '.bin', entry = n % m.perFile;
    return range(m, name, 12 + 8 * entry, 20 + 8 * entry).then(function (buf) {
      if (buf.byteLength !== 8) throw new Error('search index: truncated');
      var v = new DataView(buf), off = v.getUint32(0, true), len = v.getUint32(4, true);
      return range(m, name, off, off + len);
    }).then(function (buf) {
      var r = new Reader(buf);
      return { url: r.str(), title: r.str(), meta: r.str(), text: r.str() };
    });
  }

  // marks cuts s into spans [text, marked], as internal/search's marks does.
  function marks(s, lang, found, window) {
    var ms = [];
    each(s, lang, function (t, start, end) { if (has(found, t)) ms.push({ start: start, end: end, q: found[t] }); });
    ms = ms.map(function (m, i) { m.i = i; return m; }).sort(function (a, b) { return a.start - b.start || a.i - b.i; });
    var merged = [];
    ms.forEach(function (m) {
      var last = merged[merged.length - 1];
      if (last && m.start < last.end) last.end = Math.max(last.end, m.end);
      else merged.push(m);
    });
    ms = merged;
    var from = 0, to = s.length;
    if (window > 0) {
      var words = split(s);
      if (words.length > window) {
        var best = 0, bestDistinct = -1, bestHits = -1, wi = 0;
        ms.forEach(function (m) {
          while (wi < words.length && words[wi].end <= m.start) wi++;
          var ws = Math.min(Math.max(wi - Math.floor(window / 4), 0), words.length - window);
          var lo = words[ws].start, hi = words[ws + window - 1].end, seen = {}, distinct = 0, n = 0;
          ms.forEach(function (o) {
            if (o.start >= lo && o.end <= hi) {
              n++;
              if (!seen[o.q]) { seen[o.q] = true; distinct++; }
            }
          });
          if (distinct > bestDistinct || (distinct === bestDistinct && n > bestHits)) {
            best = ws; bestDistinct = distinct; bestHits = n;
          }
        });
        from = best === 0 ? 0 : words[best].start;
        to = words[best + window - 1].end;
      }
    }
    var out = [], pos = from;
    if (from > 0) out.push(['… ', false]);
    ms.forEach(function (m) {
      if (m.start < from || m.end > to) return;
      if (m.start > pos) out.push([s.slice(pos, m.start), false]);
      out.push([s.slice(m.start, m.end), true]);
      pos = m.end;
    });
    if (pos < to) out.push([s.slice(pos, to), false]);
    if (to < s.length) out.push([' …', false]);
    return out;
  }

  // ---- The page: the markup of internal/search's RenderResults ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function spans(parent, list) {
    list.forEach(function (s) {
      parent.appendChild(s[1] ? el('mark', '', s[0]) : document.createTextNode(s[0]));
    });
  }
  function format(s, n, q) { return s.replace('%d', String(n)).replace('%s', q); }
  function str(m, k) { return m && has(m.strings, k) ? m.strings[k] : k; }

  var status = root.querySelector('.search-status');
  if (!status) {
    status = el('p', 'search-status');
    status.setAttribute('role', 'status');
    root.insertBefore(status, root.firstChild);
  }
  status.tabIndex = -1;

  function clear() {
    while (status.nextSibling) root.removeChild(status.nextSibling);
  }

  function pageURL(q, page) {
    var p = new URLSearchParams();
    p.set('q', q);
    p.set('page', String(page));
    return '?' + p.toString();
  }

  function show(m, q, res, page, docs) {
    clear();
    var total = res.hits.length, pages = Math.ceil(total / PER_PAGE);
    q = q.trim();
    if (!q) status.textContent = '';
    else if (res.empty) status.textContent = str(m, 'empty');
    else if (total === 0) status.textContent = format(str(m, 'none'), 0, q);
    else status.textContent = format(str(m, total === 1 ? 'results_one' : 'results_other'), total, q);
    if (q && !res.empty && total === 0) root.appendChild(el('p', 'search-hint', str(m, 'hint')));
    if (!docs.length) return;
    var ol = el('ol', 'search-hits');
    ol.start = (page - 1) * PER_PAGE + 1;
    docs.forEach(function (d) {
      var li = el('li', 'search-hit'), h = el('h2', 'search-hit-title'), a = el('a');
      a.href = d.url;
      spans(a, marks(d.title, m.lang, res.found, -1));
      h.appendChild(a);
      li.appendChild(h);
      if (d.meta) li.appendChild(el('p', 'search-hit-meta', d.meta));
      var p = el('p', 'search-hit-excerpt');
      spans(p, marks(d.text, m.lang, res.found, EXCERPT_WORDS));
      li.appendChild(p);
      ol.appendChild(li);
    });
    root.appendChild(ol);
    if (pages > 1) {
      var nav = el('nav', 'pager'), ul = el('ul');
      nav.setAttribute('aria-label', str(m, 'pagination'));
      var link = function (n, cls, rel, label) {
        var li = el('li'), a = el('a', cls, label);
        a.rel = rel;
        a.href = pageURL(res.query, n);
        a.appendChild(el('span', 'sr-only', ' – ' + format(str(m, 'page_n'), n, '')));
        li.appendChild(a);
        ul.appendChild(li);
      };
      if (page > 1) link(page - 1, 'pager-prev', 'prev', str(m, 'previous'));
      var cur = el('li');
      cur.appendChild(el('span', 'pager-gap', page + ' / ' + pages));
      ul.appendChild(cur);
      if (page < pages) link(page + 1, 'pager-next', 'next', str(m, 'next'));
      nav.appendChild(ul);
      root.appendChild(nav);
    }
  }

  var current = 0;
  function run(q, page) {
    var ticket = ++current;
    return loadManifest().then(function (m) {
      if (!q.trim()) { show(m, q, { hits: [], found: {} }, 1, []); return; }
      status.textContent = str(m, 'loading');
      var terms = parseQuery(q, m.lang);
      var empty = terms.length === 0;
      return (empty ? Promise.resolve({ hits: [], found: {} }) : match(m, terms)).then(function (res) {
        var pages = Math.max(Math.ceil(res.hits.length / PER_PAGE), 1);
        page = Math.min(Math.max(page, 1), pages);
        var shown = res.hits.slice((page - 1) * PER_PAGE, page * PER_PAGE);
        return Promise.all(shown.map(function (h) { return loadDoc(m, h.doc); })).then(function (docs) {
          if (ticket !== current) return;
          res.query = q;
          res.empty = empty;
          show(m, q, res, page, docs);
        });
      });
    }).catch(function () {
      if (ticket !== current) return;
      clear();
      loadManifest().then(function (m) { status.textContent = str(m, 'error'); }, function () {
        status.textContent = document.documentElement.lang === 'fr' ? 'La recherche n’a pas pu aboutir.' : 'The search could not be completed.';
      });
    });
  }

  function fromURL() {
    var p = new URLSearchParams(location.search);
    return { q: p.get('q') || '', page: parseInt(p.get('page'), 10) || 1 };
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var q = input.value;
    history.pushState(null, '', pageURL(q, 1).replace(/&page=1$/, ''));
    run(q, 1);
  });
  root.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('.pager a');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    history.pushState(null, '', a.getAttribute('href'));
    var s = fromURL();
    run(s.q, s.page).then(function () { status.focus(); });
  });
  window.addEventListener('popstate', function () {
    var s = fromURL();
    input.value = s.q;
    run(s.q, s.page);
  });

  // The page parvis serve answered comes with its results; the static page, without.
  var start = fromURL();
  if (start.q && !root.querySelector('.search-hits, .search-hint') && !status.textContent.trim()) {
    input.value = start.q;
    run(start.q, start.page);
  }

  // For the tests that compare these rules with the server's.
  window.parvisSearch = { terms: function (s, lang) { var l = []; each(s, lang, function (t) { l.push(t); }); return l; }, parseQuery: parseQuery, stop: STOP, marks: marks };
})();

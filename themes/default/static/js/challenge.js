// Parvis form challenge. Progressive enhancement only: without this file every form still
// works, with its question (stamped into the page by the service, or asked by the service
// after sending). For each form[data-parvis-form] it takes the form's token (or fetches one
// and its question from the service named by data-parvis-challenge when the page is
// static), finds the proof of work the token asks for, fills options[pow] and hides the
// question. If the work fails the token's question stays, required. No cookie, no
// dependency, no origin but the service's.
(function () {
  'use strict';

  var PLACEHOLDER = 'parvis-form-token';
  var QUESTION_PLACEHOLDER = 'parvis-question-id';
  var TIMEOUT = 60000; // past this, the question stays
  var MAX_BITS = 30;

  var MESSAGES = {
    fr: {
      working: 'Vérification anti-spam en cours…',
      done: 'Vérification anti-spam terminée.',
      wait: 'Envoi dès la fin de la vérification anti-spam…',
      failed: 'La vérification automatique n’a pas abouti : merci de répondre à la question.',
      later: 'La vérification automatique n’a pas abouti : une question vous sera posée après l’envoi.'
    },
    en: {
      working: 'Anti-spam check in progress…',
      done: 'Anti-spam check done.',
      wait: 'Sending as soon as the anti-spam check is done…',
      failed: 'The automatic check did not succeed: please answer the question.',
      later: 'The automatic check did not succeed: a question will be asked once you send the form.'
    }
  };

  // solver returns a constructor, Search(prefix, bits), whose next(count) tries count more
  // decimal nonces n and returns the first with SHA-256(prefix + n) starting with bits zero
  // bits, or null. The prefix's whole blocks are hashed once; each try then costs one or two
  // compressions. It is plain code so that it can also run in a worker made from its source.
  function solver() {
    var K = new Int32Array([
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ]);
    var W = new Int32Array(64);

    function compress(H, m, o) {
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      var i, x, y, t1, t2;
      for (i = 0; i < 16; i++, o += 4) {
        W[i] = (m[o] << 24) | (m[o + 1] << 16) | (m[o + 2] << 8) | m[o + 3];
      }
      for (i = 16; i < 64; i++) {
        x = W[i - 15];
        y = W[i - 2];
        W[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[i - 7] +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[i - 16] | 0;
      }
      for (i = 0; i < 64; i++) {
        t1 = h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) + K[i] + W[i] | 0;
        t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c)) | 0;
        h = g; g = f; f = e; e = d + t1 | 0;
        d = c; c = b; b = a; a = t1 + t2 | 0;
      }
      H[0] = H[0] + a | 0; H[1] = H[1] + b | 0; H[2] = H[2] + c | 0; H[3] = H[3] + d | 0;
      H[4] = H[4] + e | 0; H[5] = H[5] + f | 0; H[6] = H[6] + g | 0; H[7] = H[7] + h | 0;
    }

    return function Search(prefix, bits) {
      var mid = new Int32Array([
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
      ]);
      var full = prefix.length - prefix.length % 64;
      var buf = new Uint8Array(128);
      var H = new Int32Array(8);
      var digits = new Uint8Array(16);
      var i, o;
      for (o = 0; o < full; o += 64) {
        for (i = 0; i < 64; i++) buf[i] = prefix.charCodeAt(o + i);
        compress(mid, buf, 0);
      }
      var tail = prefix.length - full;
      buf.fill(0);
      for (i = 0; i < tail; i++) buf[i] = prefix.charCodeAt(full + i);
      var n = 0, width = 0, blocks = 1;
      var mask = bits >= 32 ? -1 : ~(-1 >>> bits);
      var mask1 = bits <= 32 ? 0 : ~(-1 >>> (bits - 32));

      // layout pads the message for nonces of k digits.
      function layout(k) {
        var len = tail + k, bitLen = (full + len) * 8;
        buf.fill(0, tail);
        buf[len] = 0x80;
        blocks = len + 9 <= 64 ? 1 : 2;
        var end = blocks * 64;
        buf[end - 4] = bitLen >>> 24; buf[end - 3] = bitLen >>> 16;
        buf[end - 2] = bitLen >>> 8; buf[end - 1] = bitLen;
        width = k;
      }

      this.next = function (count) {
        for (var c = 0; c < count; c++, n++) {
          var x = n, k = 0;
          do { digits[k++] = 48 + x % 10; x = Math.floor(x / 10); } while (x > 0);
          if (k !== width) layout(k);
          for (var j = 0; j < k; j++) buf[tail + j] = digits[k - 1 - j];
          H.set(mid);
          compress(H, buf, 0);
          if (blocks === 2) compress(H, buf, 64);
          if ((H[0] & mask) === 0 && (H[1] & mask1) === 0) {
            return String(n++);
          }
        }
        return null;
      };
    };
  }

  var WORKER_MAIN = 'onmessage=function(e){var s=new Search(e.data.prefix,e.data.bits),r;' +
    'while((r=s.next(65536))===null){}postMessage(r)}';

  function now() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  // solve finds the nonce in a worker, or in slices of 10 ms on the page when workers are
  // not allowed (a strict Content-Security-Policy), so that the page stays responsive.
  function solve(token, bits) {
    return new Promise(function (resolve, reject) {
      var prefix = token + ':', worker = null, url = null, over = false;
      var timer = setTimeout(function () { finish(null); }, TIMEOUT);
      function finish(nonce) {
        if (over) return;
        over = true;
        clearTimeout(timer);
        if (worker) worker.terminate();
        if (url) URL.revokeObjectURL(url);
        if (nonce === null) reject(new Error('proof of work timed out'));
        else resolve(nonce);
      }
      function slices() {
        if (worker) worker.terminate();
        worker = null;
        var search = new (solver())(prefix, bits);
        (function step() {
          if (over) return;
          var end = now() + 10, r;
          while ((r = search.next(1024)) === null) {
            if (now() > end) {
              setTimeout(step, 0);
              return;
            }
          }
          finish(r);
        })();
      }
      try {
        url = URL.createObjectURL(new Blob(['var Search=(' + solver + ')();' + WORKER_MAIN],
          { type: 'text/javascript' }));
        worker = new Worker(url);
        worker.onmessage = function (e) { finish(String(e.data)); };
        worker.onerror = function (e) {
          if (e && e.preventDefault) e.preventDefault();
          slices();
        };
        worker.postMessage({ prefix: prefix, bits: bits });
      } catch (err) {
        slices();
      }
    });
  }

  // difficultyOf reads the fourth field of a token: p1.<form>.<issued>.<difficulty>.…
  function difficultyOf(token) {
    var f = token.split('.');
    return f.length === 6 && f[0] === 'p1' ? parseInt(f[3], 10) : NaN;
  }

  // getToken takes the form's stamped token, or fetches a token and its question, which it
  // puts in the page: the question must be the token's to be answered.
  function getToken(form, name, input, lang) {
    if (input.value && input.value !== PLACEHOLDER) {
      return Promise.resolve({ token: input.value, difficulty: difficultyOf(input.value) });
    }
    var url = form.getAttribute('data-parvis-challenge');
    if (!url || !name || !window.fetch) return Promise.reject(new Error('no challenge URL'));
    url += (url.indexOf('?') < 0 ? '?' : '&') + 'form=' + encodeURIComponent(name) +
      '&lang=' + encodeURIComponent(lang);
    return fetch(url, { credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error('challenge: HTTP ' + r.status);
        return r.json();
      })
      .then(function (c) {
        if (!c || typeof c.token !== 'string' || c.token.indexOf('p1.') !== 0) {
          throw new Error('challenge: bad answer');
        }
        input.value = c.token;
        var id = field(form, 'options[question]');
        var text = form.querySelector('.parvis-question-text');
        if (id && c.question && typeof c.question.id === 'string' && typeof c.question.text === 'string') {
          id.value = c.question.id;
          if (text) text.textContent = c.question.text;
        }
        return { token: c.token, difficulty: c.difficulty };
      });
  }

  function field(form, name) {
    for (var i = 0; i < form.elements.length; i++) {
      if (form.elements[i].name === name) return form.elements[i];
    }
    return null;
  }

  function enhance(form) {
    var name = form.getAttribute('data-parvis-form');
    var input = field(form, 'options[token]');
    if (!input || form.getAttribute('data-parvis-enhanced')) return;
    form.setAttribute('data-parvis-enhanced', '');
    var pow = field(form, 'options[pow]');
    if (!pow) {
      pow = document.createElement('input');
      pow.type = 'hidden';
      pow.name = 'options[pow]';
      form.appendChild(pow);
    }
    var lang = ((form.closest('[lang]') || document.documentElement).getAttribute('lang') || 'fr')
      .slice(0, 2).toLowerCase();
    var msg = MESSAGES[lang] || MESSAGES.fr;
    var question = form.querySelector('.parvis-question');
    var status = document.createElement('p');
    status.className = 'parvis-status';
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    if (question) question.parentNode.insertBefore(status, question.nextSibling);
    else form.appendChild(status);

    // While the work goes on the question is optional, so that an early submit reaches the
    // handler below instead of stopping at the browser's "required" message. It is made
    // required if the work fails and the page holds the token's question.
    var answer = field(form, 'options[answer]');
    if (answer) answer.required = false;

    var state = 'working', waiting = false, t0 = now(), done, run = 0;
    function start() {
      var mine = ++run;
      state = 'working';
      t0 = now();
      status.textContent = msg.working;
      done = getToken(form, name, input, lang)
        .then(function (t) {
          var bits = t.difficulty;
          if (bits === 0) return '';
          if (!(bits > 0 && bits <= MAX_BITS)) throw new Error('challenge: bad difficulty');
          return solve(t.token, bits);
        })
        .then(function (nonce) {
          if (mine !== run) return;
          pow.value = nonce;
          state = 'done';
          if (question) question.hidden = true;
          status.textContent = msg.done;
          emit(true);
        }, function () {
          if (mine !== run) return;
          state = 'failed';
          pow.value = '';
          var id = field(form, 'options[question]');
          var asked = id && id.value && id.value !== QUESTION_PLACEHOLDER;
          if (answer && asked) answer.required = true;
          if (question) question.hidden = false;
          status.textContent = !question ? '' : asked ? msg.failed : msg.later;
          emit(false);
        });
    }
    start();
    // A token carries one submission: once it is spent or refused (parvis.js says so after
    // sending), the form fetches another and does its check again.
    form.addEventListener('parvis:renew', function () {
      input.value = '';
      pow.value = '';
      if (answer) {
        answer.value = '';
        answer.required = false;
      }
      start();
    });

    function emit(solved) {
      var detail = { solved: solved, ms: Math.round(now() - t0) };
      var ev;
      if (typeof CustomEvent === 'function') {
        ev = new CustomEvent('parvis:challenge', { detail: detail });
      } else {
        ev = document.createEvent('CustomEvent');
        ev.initCustomEvent('parvis:challenge', false, false, detail);
      }
      form.dispatchEvent(ev);
    }

    form.addEventListener('submit', function (e) {
      if (state !== 'working') return;
      e.preventDefault();
      if (waiting) return;
      waiting = true;
      var submitter = e.submitter || null;
      status.textContent = msg.wait;
      done.then(function () {
        waiting = false;
        if (state === 'done') {
          if (form.requestSubmit) form.requestSubmit(submitter);
          else form.submit();
        } else if (question && answer && answer.required) {
          answer.focus();
        } else {
          // No question in the page: the service asks one after sending.
          if (form.requestSubmit) form.requestSubmit(submitter);
          else form.submit();
        }
      });
    });
  }

  function init() {
    var forms = document.querySelectorAll('form[data-parvis-form]');
    for (var i = 0; i < forms.length; i++) enhance(forms[i]);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

// Parvis shared dossiers: the shell of a sealed page (layouts/shared.html) decrypts it in
// the browser with WebCrypto, with the key the reader's link carries in its fragment
// (#k=<version>.<key>), which browsers never send to a server. The format is described in
// internal/share/seal.go. Links to the dossier's other pages get the key; its files decrypt
// to a download, with their own name and type; its forms get the contribution token, a
// value derived from the key (never the key). Every failure ends in a message that says
// what to do; nothing is shown that did not decrypt and authenticate.
(function () {
  'use strict';

  var TEXT = {
    fr: {
      opening: 'Ouverture du dossier…',
      malformed: 'Ce lien ne contient pas de clé valide. Copiez le lien entier depuis votre invitation, puis ouvrez-le à nouveau.',
      incomplete: 'Ce lien est incomplet : la clé qu’il contient est tronquée ({n} caractères au lieu de 43). Copiez le lien entier depuis votre invitation, sans couper sa fin.',
      old: 'Ce lien n’ouvre plus le dossier : sa clé a été changée. Si vous en êtes toujours membre, un nouveau lien vous a été envoyé par courriel ; sinon, demandez l’accès ci-dessous.',
      newer: 'Le dossier est en cours de mise à jour avec une nouvelle clé. Réessayez dans quelques minutes.',
      wrong: 'La clé de ce lien n’ouvre pas ce dossier. Vérifiez que vous avez copié le lien entier, ou demandez un nouveau lien.',
      insecure: 'Votre navigateur ne peut pas déchiffrer le dossier sur cette connexion : ouvrez le lien à une adresse en https.',
      network: 'Le dossier n’a pas pu être chargé ({n}). Vérifiez votre connexion, puis rechargez la page.',
      damaged: 'Le contenu reçu n’est pas celui du dossier. Rechargez la page ; si cela se reproduit, demandez un nouveau lien.',
      fileOpening: 'Déchiffrement du fichier…',
      fileDone: 'Le fichier « {n} » est déchiffré : son téléchargement commence.',
      fileFailed: 'Le fichier n’a pas pu être ouvert : {n}'
    },
    en: {
      opening: 'Opening the dossier…',
      malformed: 'This link holds no valid key. Copy the whole link from your invitation, then open it again.',
      incomplete: 'This link is incomplete: the key in it is cut short ({n} characters instead of 43). Copy the whole link from your invitation, without cutting its end.',
      old: 'This link no longer opens the dossier: its key was changed. If you are still a member, a new link was sent to you by e-mail; otherwise, ask for access below.',
      newer: 'The dossier is being updated with a new key. Try again in a few minutes.',
      wrong: 'The key of this link does not open this dossier. Check that you copied the whole link, or ask for a new one.',
      insecure: 'Your browser cannot decrypt the dossier over this connection: open the link at an https address.',
      network: 'The dossier could not be loaded ({n}). Check your connection, then reload the page.',
      damaged: 'What was received is not the dossier. Reload the page; if it happens again, ask for a new link.',
      fileOpening: 'Decrypting the file…',
      fileDone: 'The file “{n}” is decrypted: its download is starting.',
      fileFailed: 'The file could not be opened: {n}'
    }
  };
  var MAGIC = 'PVS1';
  var HEADER = 20;
  var TOKEN_LABEL = 'parvis share contribute v1';

  var root = document.getElementById('share');
  if (!root) return;
  var lang = (document.documentElement.lang || 'fr').slice(0, 2).toLowerCase();
  var T = TEXT[lang] || TEXT.fr;
  var status = root.querySelector('[data-share-status]');
  var locked = root.querySelector('[data-share-locked]');
  var content = root.querySelector('[data-share-content]');

  function fmt(s, n) { return s.replace('{n}', String(n)); }

  function say(msg, isError) {
    status.textContent = msg;
    status.hidden = false;
    // The theme's look for what went wrong (the form errors'), or for news.
    status.className = (isError ? 'form-errors' : 'notice') + ' share-status';
    if (isError) {
      root.setAttribute('data-share-state', 'error');
      status.focus();
    }
  }

  // Failure carries the message a reader sees.
  function Failure(msg) { this.message = msg; }

  // link reads #k=<version>.<key> from the fragment, or null when there is none.
  function link() {
    var parts = location.hash.replace(/^#/, '').split('&');
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf('k=') !== 0) continue;
      var k = parts[i].slice(2), dot = k.indexOf('.');
      var version = dot > 0 ? Number(k.slice(0, dot)) : NaN;
      if (!(version >= 1) || Math.floor(version) !== version) throw new Failure(T.malformed);
      var b64 = k.slice(dot + 1), raw;
      if (!/^[A-Za-z0-9_-]*$/.test(b64)) throw new Failure(T.malformed);
      if (b64.length !== 43) throw new Failure(fmt(T.incomplete, b64.length));
      try {
        raw = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '=');
      } catch (e) {
        throw new Failure(T.malformed);
      }
      var bytes = new Uint8Array(raw.length);
      for (var j = 0; j < raw.length; j++) bytes[j] = raw.charCodeAt(j);
      if (bytes.length !== 32) throw new Failure(fmt(T.incomplete, b64.length));
      return { version: version, secret: bytes, fragment: parts[i] };
    }
    return null;
  }

  // The dossier's folder and an object's name below it, which the object is bound to.
  var base = new URL(root.getAttribute('data-share-base'), location.href);
  function nameOf(u) {
    var p = new URL(u, location.href).pathname;
    return p.indexOf(base.pathname) === 0 ? p.slice(base.pathname.length) : null;
  }

  // open fetches and decrypts an object; it resolves to {meta, content}.
  function open(key, aesKey, url) {
    var name = nameOf(url);
    if (name === null) return Promise.reject(new Failure(T.damaged));
    return fetch(url, { credentials: 'same-origin', cache: 'no-cache' })
      .then(function (res) {
        if (!res.ok) throw new Failure(fmt(T.network, 'HTTP ' + res.status));
        return res.arrayBuffer();
      }, function () {
        throw new Failure(fmt(T.network, navigator.onLine === false ? 'offline' : 'network'));
      })
      .then(function (buf) {
        var obj = new Uint8Array(buf);
        if (obj.length < HEADER + 20 || String.fromCharCode(obj[0], obj[1], obj[2], obj[3]) !== MAGIC) {
          throw new Failure(T.damaged);
        }
        var version = new DataView(buf).getUint32(4);
        if (version > key.version) throw new Failure(T.old);
        if (version < key.version) throw new Failure(T.newer);
        var label = new TextEncoder().encode(root.getAttribute('data-share-id') + '/' + name);
        var aad = new Uint8Array(8 + label.length);
        aad.set(obj.subarray(0, 8));
        aad.set(label, 8);
        return crypto.subtle.decrypt({ name: 'AES-GCM', iv: obj.slice(8, HEADER), additionalData: aad, tagLength: 128 },
          aesKey, obj.slice(HEADER)).then(null, function () { throw new Failure(T.wrong); });
      })
      .then(function (plain) {
        var view = new DataView(plain), n = view.getUint32(0), meta;
        if (n > plain.byteLength - 4) throw new Failure(T.damaged);
        try {
          meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(plain, 4, n)));
        } catch (e) {
          throw new Failure(T.damaged);
        }
        if (!meta || typeof meta.size !== 'number' || meta.size < 0 || meta.size > plain.byteLength - 4 - n) {
          throw new Failure(T.damaged);
        }
        return { meta: meta, content: new Uint8Array(plain, 4 + n, meta.size) };
      });
  }

  function b64url(buf) {
    var s = '', b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // show puts the decrypted page in place of the shell's text, then makes its links carry
  // the key, its files decrypt and its forms prove the key.
  function show(key, aesKey, page) {
    var html = new TextDecoder('utf-8', { fatal: true }).decode(page.content);
    content.innerHTML = html;
    locked.hidden = true;
    content.hidden = false;
    root.setAttribute('data-share-state', 'open');
    var title = page.meta.title || '';
    if (title) {
      document.title = title + ' – ' + root.getAttribute('data-site-title');
      var here = document.querySelector('.breadcrumbs [aria-current=page]');
      if (here) here.textContent = title;
    }
    var links = content.querySelectorAll('a[href]');
    for (var i = 0; i < links.length; i++) wire(key, aesKey, links[i]);
    var forms = content.querySelectorAll('form');
    if (forms.length) {
      crypto.subtle.importKey('raw', key.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
        .then(function (k) { return crypto.subtle.sign('HMAC', k, new TextEncoder().encode(TOKEN_LABEL)); })
        .then(function (sig) {
          for (var i = 0; i < forms.length; i++) {
            var input = document.createElement('input');
            input.type = 'hidden';
            input.name = 'options[share]';
            input.value = b64url(sig);
            forms[i].appendChild(input);
          }
          // The anti-spam check enhances the forms present when it runs: it runs now.
          var src = root.getAttribute('data-share-challenge');
          if (src && content.querySelector('form[data-parvis-form]')) {
            var s = document.createElement('script');
            s.src = src;
            document.body.appendChild(s);
          }
        });
    }
    var h1 = content.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    }
  }

  function wire(key, aesKey, a) {
    var href = a.getAttribute('href');
    if (href.charAt(0) === '#') {
      // A link within the page: moving to it must not drop the key from the address.
      a.addEventListener('click', function (e) {
        var target = document.getElementById(decodeURIComponent(href.slice(1)));
        if (!target) return;
        e.preventDefault();
        target.scrollIntoView();
        if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
        target.focus({ preventScroll: true });
      });
      return;
    }
    var u = new URL(href, location.href);
    if (u.origin !== location.origin || u.pathname.indexOf(base.pathname) !== 0) return;
    if (/\.bin$/.test(u.pathname)) {
      a.removeAttribute('download');
      a.addEventListener('click', function (e) {
        e.preventDefault();
        download(key, aesKey, a, u.href);
      });
      return;
    }
    u.hash = key.fragment;
    a.setAttribute('href', u.pathname + u.search + u.hash);
  }

  function download(key, aesKey, a, url) {
    say(T.fileOpening);
    open(key, aesKey, url).then(function (file) {
      if (file.meta.t !== 'file') throw new Failure(T.damaged);
      var blob = new Blob([file.content], { type: file.meta.type || 'application/octet-stream' });
      var obj = URL.createObjectURL(blob);
      var save = document.createElement('a');
      save.href = obj;
      save.download = file.meta.name || 'document';
      save.hidden = true;
      document.body.appendChild(save);
      save.click();
      save.remove();
      setTimeout(function () { URL.revokeObjectURL(obj); }, 60000);
      say(fmt(T.fileDone, file.meta.name));
      a.setAttribute('data-share-downloaded', file.meta.name);
    }).then(null, function (err) {
      say(fmt(T.fileFailed, err instanceof Failure ? err.message : T.damaged), true);
      root.setAttribute('data-share-state', 'open');
    });
  }

  function start() {
    var key;
    try {
      key = link();
    } catch (err) {
      say(err.message, true);
      return;
    }
    if (!key) {
      root.setAttribute('data-share-state', 'locked');
      return;
    }
    if (!window.crypto || !crypto.subtle || !window.fetch || !window.TextDecoder) {
      say(T.insecure, true);
      return;
    }
    say(T.opening);
    crypto.subtle.importKey('raw', key.secret, { name: 'AES-GCM' }, false, ['decrypt'])
      .then(function (aesKey) {
        return open(key, aesKey, root.getAttribute('data-share-src')).then(function (page) {
          if (page.meta.t !== 'page') throw new Failure(T.damaged);
          status.hidden = true;
          status.textContent = '';
          show(key, aesKey, page);
        });
      })
      .then(null, function (err) {
        say(err instanceof Failure ? err.message : T.damaged, true);
      });
  }

  // A new fragment (a link pasted in the same tab) is a new key.
  window.addEventListener('hashchange', function () {
    if (/(^#|&)k=/.test(location.hash)) location.reload();
  });
  start();
})();

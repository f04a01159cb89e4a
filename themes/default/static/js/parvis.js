// Parvis default theme: progressive enhancements only. Every page and form works without this
// file: replies are chosen in the comment form's "In reply to" list, errors are the browser's,
// and a form sent without it is answered by the service with the page itself, refilled.
(function () {
  'use strict';

  var TEXT = {
    fr: {
      cancel: 'Annuler la réponse',
      sending: 'Envoi en cours…',
      sent: 'Votre envoi est enregistré.',
      sentTitle: 'Merci, votre envoi a bien été enregistré.',
      receipt: 'Suivre votre contribution',
      receiptHint: ' : cette page de suivi indique où elle en est ; ajoutez-la à vos favoris ou copiez son adresse pour y revenir.',
      title: 'Votre envoi n’a pas pu être enregistré',
      network: 'Le service n’a pas pu être joint. Ce que vous avez écrit est conservé sur cette page : vérifiez votre connexion, puis envoyez à nouveau.',
      server: 'Le service n’a pas pu enregistrer votre envoi (erreur {n}). Ce que vous avez écrit est conservé sur cette page : réessayez dans un moment.',
      status: 'Le service a refusé l’envoi (erreur {n}). Ce que vous avez écrit est conservé sur cette page.',
      renewed: 'Le formulaire a été renouvelé : envoyez-le à nouveau.',
      fast: 'Patientez quelques secondes, puis envoyez à nouveau.',
      wait: 'Patientez {n} secondes, puis envoyez à nouveau.'
    },
    en: {
      cancel: 'Cancel the reply',
      sending: 'Sending…',
      sent: 'Your submission is recorded.',
      sentTitle: 'Thank you, your submission is recorded.',
      receipt: 'Follow your contribution',
      receiptHint: ': this follow-up page says where it stands; bookmark it or copy its address to come back to it.',
      title: 'Your submission could not be recorded',
      network: 'The service could not be reached. What you wrote is kept on this page: check your connection, then send again.',
      server: 'The service could not record your submission (error {n}). What you wrote is kept on this page: try again in a moment.',
      status: 'The service refused the submission (error {n}). What you wrote is kept on this page.',
      renewed: 'The form was renewed: send it again.',
      fast: 'Wait a few seconds, then send again.',
      wait: 'Wait {n} seconds, then send again.'
    }
  };

  function text() {
    var lang = (document.documentElement.lang || 'fr').slice(0, 2).toLowerCase();
    return TEXT[lang] || TEXT.fr;
  }

  function fmt(s, n) { return s.replace('{n}', String(n)); }

  // Replying: the comment form moves under the comment answered, with its "In reply to" list
  // set, and a button brings it back.
  function replies() {
    var box = document.getElementById('comment-form');
    if (!box) return;
    var form = box.querySelector('form');
    var parent = form && form.elements['options[parent]'];
    if (!parent) return;
    var home = document.createComment('comment-form');
    box.parentNode.insertBefore(home, box);
    var title = box.querySelector('h3');
    var titleText = title ? title.textContent : '';
    var cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'btn btn-secondary cancel-reply';
    cancel.textContent = text().cancel;
    cancel.hidden = true;
    form.querySelector('.form-submit').appendChild(cancel);

    function focusFirst() {
      var first = form.querySelector('input:not([type=hidden]), textarea');
      if (first) first.focus();
    }

    document.addEventListener('click', function (e) {
      var link = e.target.closest && e.target.closest('a.reply-link[data-reply]');
      if (!link) return;
      e.preventDefault();
      var li = link.closest('li.comment');
      parent.value = link.getAttribute('data-reply');
      li.querySelector('article').after(box);
      if (title) title.textContent = link.textContent.trim();
      cancel.hidden = false;
      focusFirst();
    });
    cancel.addEventListener('click', function () {
      parent.value = '';
      home.parentNode.insertBefore(box, home.nextSibling);
      if (title) title.textContent = titleText;
      cancel.hidden = true;
      focusFirst();
    });
    // Choosing in the list by hand is kept as it is: the form stays where it is.
  }

  // Errors: the browser's message goes in the field's error slot, which aria-describedby
  // already points at, and the field is marked (a border and the text, not colour alone).
  function errors() {
    var forms = document.querySelectorAll('form.form');
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener('invalid', function (e) {
        var field = e.target.closest('.field');
        var slot = field && field.querySelector('.field-error');
        if (!slot) return;
        slot.textContent = e.target.validationMessage;
        field.classList.add('invalid');
        e.target.setAttribute('aria-invalid', 'true');
      }, true);
      forms[i].addEventListener('input', function (e) {
        var field = e.target.closest('.field.invalid');
        if (!field || !e.target.checkValidity()) return;
        field.classList.remove('invalid');
        field.querySelector('.field-error').textContent = '';
        e.target.removeAttribute('aria-invalid');
      });
    }
  }

  // Sending: a form of the service's is posted with fetch, asking for JSON, so that the
  // reader stays on the page. A refusal puts each message next to its field and a summary at
  // the top of the form, which takes the focus; what was typed stays. Success shows the
  // page's notice with the receipt's link and says so in a live region. Every answer, a
  // network failure included, ends in a message. challenge.js listens on the form itself and
  // holds a submit back while its check runs: this listener, on the document, sees the event
  // after it and leaves it alone then.
  var ANTISPAM = { challenge: 1, token_invalid: 1, token_expired: 1, token_reused: 1, too_fast: 1 };

  function sending() {
    if (!window.fetch || !window.FormData || !window.URLSearchParams) return;
    document.addEventListener('submit', function (e) {
      var form = e.target;
      if (e.defaultPrevented || !form.hasAttribute || !form.hasAttribute('data-parvis-form')) return;
      e.preventDefault();
      send(form, e.submitter || null);
    });
    // Live regions must be in the page before they speak.
    var forms = document.querySelectorAll('form[data-parvis-form]');
    for (var i = 0; i < forms.length; i++) liveRegion(forms[i]);
    // A page the service answered with (a form refused without JavaScript) focuses its summary.
    var shown = document.querySelector('[data-parvis-errors]');
    if (shown && document.activeElement !== shown) shown.focus();
  }

  function send(form, submitter) {
    if (form.getAttribute('aria-busy') === 'true') return;
    var t = text();
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var body = (form.getAttribute('enctype') || '').toLowerCase() === 'multipart/form-data' ? data : new URLSearchParams(data);
    var live = liveRegion(form);
    busy(form, true);
    live.textContent = t.sending;
    fetch(form.action, { method: 'POST', body: body, headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) {
        return res.text().then(function (raw) {
          var json = null;
          try { json = JSON.parse(raw); } catch (err) { json = null; }
          return { res: res, json: json && typeof json === 'object' ? json : null };
        });
      })
      .then(function (a) {
        busy(form, false);
        answer(form, a.res, a.json);
      }, function () {
        busy(form, false);
        refused(form, { message: t.network });
      });
  }

  function busy(form, on) {
    form.setAttribute('aria-busy', on ? 'true' : 'false');
    var buttons = form.querySelectorAll('button[type=submit], input[type=submit]');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = on;
  }

  function answer(form, res, json) {
    var t = text();
    if (res.ok) {
      success(form, json && typeof json.status_url === 'string' ? json.status_url : '');
      return;
    }
    var code = json && typeof json.error === 'string' ? json.error : '';
    var info = {
      message: json && typeof json.message === 'string' ? json.message : '',
      fields: json && json.fields && typeof json.fields === 'object' ? json.fields : {}
    };
    if (!info.message) info.message = fmt(res.status >= 500 ? t.server : t.status, res.status);
    if (ANTISPAM[code]) {
      // The token is spent or refused: another one, and its check, for the next send.
      form.dispatchEvent(event('parvis:renew'));
      info.extra = code === 'too_fast' ? t.fast : t.renewed;
    }
    var wait = parseInt(res.headers.get('Retry-After') || '', 10);
    if (res.status === 429 && wait > 0) info.extra = fmt(t.wait, wait);
    refused(form, info);
  }

  function event(name) {
    if (typeof CustomEvent === 'function') return new CustomEvent(name);
    var ev = document.createEvent('CustomEvent');
    ev.initCustomEvent(name, false, false, null);
    return ev;
  }

  // control finds the form's control posted as key: the first of a group of radios.
  function control(form, key) {
    var item = form.elements.namedItem(key);
    if (!item) return null;
    return item.tagName ? item : item[0] || null;
  }

  function controls(form, key) {
    var out = [];
    for (var i = 0; i < form.elements.length; i++) {
      if (form.elements[i].name === key) out.push(form.elements[i]);
    }
    return out;
  }

  // slotOf finds the element, with class field-error, that the control or its fieldset
  // names in aria-describedby; it makes one when there is none.
  function slotOf(el) {
    var refs = (el.getAttribute('aria-describedby') || '').split(/\s+/);
    var set = el.closest('fieldset');
    if (set) refs = refs.concat((set.getAttribute('aria-describedby') || '').split(/\s+/));
    for (var i = 0; i < refs.length; i++) {
      var s = refs[i] && document.getElementById(refs[i]);
      if (s && s.classList.contains('field-error')) return s;
    }
    if (!el.id) el.id = 'parvis-field-' + Math.random().toString(36).slice(2, 8);
    var slot = document.createElement('p');
    slot.className = 'field-error';
    slot.id = el.id + '-error';
    el.insertAdjacentElement('afterend', slot);
    el.setAttribute('aria-describedby', ((el.getAttribute('aria-describedby') || '') + ' ' + slot.id).trim());
    return slot;
  }

  function clear(form) {
    var box = form.querySelector('.form-errors');
    if (box) box.parentNode.removeChild(box);
    var marked = form.querySelectorAll('[aria-invalid=true]');
    for (var i = 0; i < marked.length; i++) {
      marked[i].removeAttribute('aria-invalid');
      var field = marked[i].closest('.field');
      if (field) {
        field.classList.remove('invalid');
        var slots = field.querySelectorAll('.field-error');
        for (var j = 0; j < slots.length; j++) slots[j].textContent = '';
      }
    }
  }

  function refused(form, info) {
    var t = text();
    clear(form);
    var box = document.createElement('div');
    box.className = 'form-errors';
    box.id = form.id ? form.id + '-errors' : 'parvis-form-errors';
    box.setAttribute('role', 'alert');
    box.setAttribute('tabindex', '-1');
    var title = document.createElement('p');
    title.className = 'form-errors-title';
    title.textContent = t.title;
    box.appendChild(title);
    var list = document.createElement('ul');
    var loose = [];
    var keys = Object.keys(info.fields || {});
    for (var i = 0; i < keys.length; i++) {
      var m = String(info.fields[keys[i]]);
      var el = control(form, keys[i]);
      if (!el || el.type === 'hidden') {
        loose.push(m);
        continue;
      }
      var slot = slotOf(el);
      slot.textContent = m;
      var all = controls(form, keys[i]);
      for (var j = 0; j < all.length; j++) all[j].setAttribute('aria-invalid', 'true');
      var field = el.closest('.field');
      if (field) field.classList.add('invalid');
      var a = document.createElement('a');
      a.href = '#' + el.id;
      a.textContent = m;
      var li = document.createElement('li');
      li.appendChild(a);
      list.appendChild(li);
    }
    var lines = [];
    if (info.message && !(keys.length === 1 && loose.length === 0)) lines.push(info.message);
    lines = lines.concat(loose);
    if (info.extra) lines.push(info.extra);
    for (var k = 0; k < lines.length; k++) {
      var p = document.createElement('p');
      p.textContent = lines[k];
      box.appendChild(p);
    }
    if (list.firstChild) box.insertBefore(list, title.nextSibling);
    form.insertBefore(box, form.firstChild);
    liveRegion(form).textContent = '';
    box.focus();
  }

  function success(form, url) {
    var t = text();
    clear(form);
    var id = form.getAttribute('data-parvis-form') === 'comment' ? 'comment-sent' : 'form-sent';
    var notice = document.getElementById(id);
    if (!notice) {
      notice = document.createElement('div');
      notice.id = id;
      notice.className = 'notice notice-success sent-notice';
      notice.setAttribute('tabindex', '-1');
      var title = document.createElement('p');
      title.className = 'notice-title';
      title.textContent = t.sentTitle;
      notice.appendChild(title);
      form.parentNode.insertBefore(notice, form);
    }
    var old = notice.querySelector('.sent-receipt');
    if (old) old.parentNode.removeChild(old);
    if (/^(https?:\/\/|\/[^\/])/i.test(url)) {
      var p = document.createElement('p');
      p.className = 'sent-receipt';
      var a = document.createElement('a');
      a.href = url;
      a.textContent = t.receipt;
      p.appendChild(a);
      p.appendChild(document.createTextNode(t.receiptHint));
      notice.appendChild(p);
    }
    notice.classList.add('is-shown');
    form.reset();
    form.dispatchEvent(event('parvis:renew')); // one token, one submission
    liveRegion(form).textContent = t.sent;
    notice.focus();
  }

  // liveRegion is the form's status line, next to its button, that screen readers read out.
  function liveRegion(form) {
    var live = form.querySelector('.parvis-send-status');
    if (live) return live;
    live = document.createElement('p');
    live.className = 'parvis-send-status';
    live.setAttribute('role', 'status');
    var submit = form.querySelector('.form-submit') || form.lastChild;
    form.insertBefore(live, submit);
    return live;
  }

  // The narrow-screen menu closes with Escape, back on its button.
  function menu() {
    var details = document.querySelector('details.menu-narrow');
    if (!details) return;
    details.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && details.open) {
        details.open = false;
        details.querySelector('summary').focus();
      }
    });
  }

  function init() {
    replies();
    errors();
    sending();
    menu();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

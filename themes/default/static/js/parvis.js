// Parvis default theme: progressive enhancements only. Every page and form works without this
// file: replies are chosen in the comment form's "In reply to" list, errors are the browser's.
(function () {
  'use strict';

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
    cancel.textContent = document.documentElement.lang === 'en' ? 'Cancel the reply' : 'Annuler la réponse';
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
    menu();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

"use strict";
/* A search picker in a row added to an inline (another override, another layer) starts as a
   copy of the hidden template row, which is never made a picker: make the copy one. */
document.addEventListener("formset:added", (event) => {
  django.jQuery(event.target).find(".unfold-admin-autocomplete").djangoCustomSelect2();
});

/* select2 reports a pick through jQuery, which listeners added with addEventListener (the
   handoff preview, the rule editor's reloads) never hear: tell them as the browser would. */
django.jQuery(document).on("select2:select select2:unselect select2:clear", (event) => {
  event.target.dispatchEvent(new Event("change", { bubbles: true }));
});

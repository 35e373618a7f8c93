"use strict";
/* A search picker in a row added to an inline (another override, another layer) starts as a
   copy of the hidden template row, which is never made a picker: make the copy one. */
document.addEventListener("formset:added", (event) => {
  django.jQuery(event.target).find(".unfold-admin-autocomplete").djangoCustomSelect2();
});

// Package forms decodes, checks and encodes one citizen submission against the form policy
// declared in parvis.yaml (site.FormSpec).
//
// A form is compiled once with Compile. For each request the service caps the body at
// MaxBytes, parses it, and calls Decode with the posted values and files: Decode returns
// either per-key Errors (with a status and French and English messages) or a Submission
// whose values are cleaned, whose uploads are checked by their content and re-encoded, and
// whose private fields (an e-mail address) are kept apart. Later, usually in the worker,
// Encode turns the Submission into the files of the change: a Staticman-shaped YAML file
// or a Markdown page, with its uploads beside it in a page bundle.
//
// Input is hostile. Only the declared keys are accepted: fields[<name>], options[<name>]
// for the options the policy lists, the anti-spam options token, pow, question and answer,
// and the honeypot; anything else, or a key sent twice, is an error naming the key. No
// value reaches a path without being checked (ids, page references) or slugified (fields),
// and no e-mail address reaches a file: private fields are never written, e-mail addresses
// in public fields are refused, and Encode checks its own output again.
//
// Compile refuses what would leak personal data (an e-mail field that is not private, a
// private field in a path, or transformed other than by hash) and what the site could not
// load once approved (a comment outside comments/{options.page}, a page without a title, a
// photo without exactly one image, uploads outside a bundle, a path two submissions share).
//
// Defaults where the policy is silent (the service's users expect bounded input):
//
//	max for text 300, textarea 3000, markdown 20000, url 2000, email 254 characters
//	max for an upload 10 MiB; images fit 2560 pixels on their longest side
//	accept for an image field JPEG and PNG; for a file field PDF and ODT
//	images above 40 megapixels are refused before they are decoded
//	a datetime field also takes a date alone, which the site reads as a whole day
package forms

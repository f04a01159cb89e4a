package generator

import "bytes"

// ReceiptPage is the page the submission service writes receipts and its messages into: a
// page of the site's layout (header, menu, footer) whose element marked data-parvis-receipt
// it fills. It lives at the site's root, as 404.html does, out of the sitemap and of search
// engines; commentsvc.ReceiptPage names the same path.
const ReceiptPage = "/receipt.html"

func (b *build) receiptJob() job {
	return func(buf *bytes.Buffer) error {
		d := b.data("receipt", b.th.translate("receipt_title"), "", ReceiptPage)
		if err := b.th.execute(buf, "receipt", d); err != nil {
			return err
		}
		return b.write(ReceiptPage[1:], buf.Bytes())
	}
}

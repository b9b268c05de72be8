"""Build handbook/expense-faq.pdf, the sample corpus's PDF, from the text below.

Run from anywhere:  .venv/bin/python knowledge/sample/build_pdf.py

The PDF is written with the dependency-free writer in tests/support/pdfwriter.py.
Each page carries its own facts, so tests can check that answers cite the right page.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.pdfwriter import write_pdf  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "handbook" / "expense-faq.pdf"
TITLE = "Ledgerly expense FAQ"

PAGE_1 = [
    "Ledgerly expense FAQ - Northwind Lumen GmbH",
    "Finance team, version 2026-01. Page 1 of 3: Getting started",
    "",
    "Ledgerly is the tool in which every Northwind Lumen employee claims business expenses: "
    "travel, per diems, home office setup, learning budget items and client entertainment. "
    "The travel and expenses policy says what is reimbursed; this FAQ explains how to claim "
    "it.",
    "",
    "Q: How do I log in to Ledgerly?",
    "A: Go to ledgerly.northwind-lumen.com and choose 'Sign in with Okta'. There is no "
    "separate Ledgerly password. Your account exists from your first working day.",
    "",
    "Q: Is there a mobile app?",
    "A: Yes. Install 'Ledgerly Go' from the App Store or Google Play and sign in with Okta. "
    "The app works on personal phones as well, because it only uses SSO and needs no VPN.",
    "",
    "Q: How do I add a receipt?",
    "A: Photograph the receipt in Ledgerly Go within 24 hours, or forward PDF invoices to "
    "receipts@ledgerly.northwind-lumen.com from your work address. Ledgerly reads the date, "
    "vendor, amount and VAT automatically; check them before you submit.",
    "",
    "Q: Do I have to keep the paper receipt?",
    "A: No. A clear photo in Ledgerly is the legal copy for German, Portuguese and Canadian "
    "tax purposes. You may throw the paper away once the expense shows the status 'Receipt "
    "verified'.",
    "",
    "Q: Do small expenses need a receipt?",
    "A: Expenses under EUR 15 (CAD 20 in Toronto), such as a bus ticket or parking meter, can"
    " be claimed without a receipt as 'Small expense without receipt'. At most 3 such items "
    "per month are allowed.",
    "",
    "Q: I paid in another currency. Which exchange rate is used?",
    "A: Ledgerly converts foreign-currency expenses with the European Central Bank reference "
    "rate of the transaction date (Bank of Canada rate for Toronto employees). If you paid by"
    " private card, you may instead upload the card statement showing the rate you really "
    "paid.",
    "",
    "Q: Which category do I choose?",
    "A: Use 'Travel' for trips, 'Per diem' for meal allowances, 'Home office setup', "
    "'Learning', 'Buddy lunch', 'Client entertainment' or 'Other'. Per diems are calculated "
    "by Ledgerly from the trip dates and destination; do not enter meal receipts for days "
    "with a per diem.",
    "",
    "Q: How do I group expenses into a report?",
    "A: Create one expense report per trip, named with destination and dates (for example "
    "'Toronto 2026-03-09 to 03-13'). Expenses that do not belong to a trip go into a monthly "
    "report.",
]

PAGE_2 = [
    "Ledgerly expense FAQ - Northwind Lumen GmbH",
    "Page 2 of 3: Approvals and reimbursement",
    "",
    "Q: Who approves my expense report?",
    "A: Your line manager approves every report. Reports above EUR 1,000 are also checked by "
    "the Finance team (four-eyes check) after the manager's approval.",
    "",
    "Q: How long does my manager have to approve?",
    "A: Managers have 5 business days. After 5 business days Ledgerly reminds them; after 10 "
    "business days the report is escalated to the Finance team, which approves it on the "
    "manager's behalf.",
    "",
    "Q: When do I get my money?",
    "A: Reports fully approved by the 20th of a month are reimbursed with that month's "
    "payroll in Berlin and Lisbon. Reports approved after the 20th are paid with the "
    "following month's payroll. Toronto employees are paid every two weeks; approved reports "
    "are reimbursed with the next bi-weekly pay run.",
    "",
    "Q: Can I get an advance for a long trip?",
    "A: Yes. For trips longer than 5 days or costing more than EUR 1,500 out of pocket, "
    "request a travel advance in Ledgerly at least 10 working days before departure. The "
    "advance is settled against your expense report after the trip.",
    "",
    "Q: My manager is on vacation. Who approves?",
    "A: Managers set an approval delegate in Ledgerly before their vacation (Settings > "
    "Delegation). If no delegate is set, the next-level manager receives the report "
    "automatically after 5 business days.",
    "",
    "Q: My expense was rejected. What now?",
    "A: The rejection comment explains why. Fix the item (for example add a missing receipt "
    "or attendee names) and resubmit the same report; do not create a new one. A report can "
    "be resubmitted up to 3 times, after that Finance contacts you.",
    "",
    "Q: How do I reconcile my corporate card?",
    "A: Corporate Visa card transactions appear in Ledgerly within 2 days. Attach a receipt "
    "to every transaction and submit all transactions of a month by the 5th of the following "
    "month. If card transactions stay unreconciled for 60 days, the card is suspended.",
    "",
    "Q: I booked something privately on the corporate card by mistake.",
    "A: Mark the transaction as 'Private' in Ledgerly. The amount is deducted from your next "
    "salary. Repeated private use leads to withdrawal of the card.",
]

PAGE_3 = [
    "Ledgerly expense FAQ - Northwind Lumen GmbH",
    "Page 3 of 3: Special cases and contacts",
    "",
    "Q: I lost a receipt. Can I still claim the expense?",
    "A: Yes, with a 'Missing receipt declaration' in Ledgerly, signed electronically by you "
    "and your manager. At most 2 missing-receipt declarations per quarter are accepted. "
    "Declarations cannot be used for hotel invoices or flights; ask the vendor for a copy "
    "instead.",
    "",
    "Q: How do I claim a client dinner?",
    "A: Use the category 'Client entertainment' and list the names and companies of all "
    "attendees and the business purpose. The limit is EUR 90 per person (CAD 130 in Toronto),"
    " including tip. The most senior Northwind Lumen employee present pays and claims.",
    "",
    "Q: Is alcohol reimbursed?",
    "A: Only as part of an approved client entertainment claim, up to a reasonable amount. "
    "Alcohol on per diem days, at team events without customers or in hotel minibars is not "
    "reimbursed.",
    "",
    "Q: How much tip can I claim?",
    "A: Tips up to 10 percent of the bill in Europe and up to 15 percent in North America are"
    " reimbursed. Write the tip on the receipt if it is not printed.",
    "",
    "Q: I extended a business trip with private vacation days. What can I claim?",
    "A: Flights are reimbursed if they cost no more than the flights for the business dates "
    "alone; attach a TripDesk price comparison. Hotel nights and per diems for the private "
    "days are not reimbursed.",
    "",
    "Q: Can I claim a team event?",
    "A: Team events are paid from the team budget of EUR 60 per person per quarter (CAD 85 in"
    " Toronto). The team lead submits one claim in the category 'Team event' with the list of"
    " participants.",
    "",
    "Q: Who do I contact with questions?",
    "A: Write to expenses@northwind-lumen.com or ask in the Slack channel #ask-finance. For "
    "urgent problems while travelling (for example a blocked corporate card), call the "
    "Finance hotline on +49 30 5557 3300, Monday to Friday 09:00 to 17:00 CET.",
]

PAGES = [PAGE_1, PAGE_2, PAGE_3]


def main() -> None:
    write_pdf(OUTPUT, PAGES, title=TITLE)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size} bytes, {len(PAGES)} pages)")


if __name__ == "__main__":
    main()

package console

import "strings"

// text is one piece of the console in Japanese and English.
type text struct{ ja, en string }

func (t text) in(lang string) string {
	if lang == langEN && t.en != "" {
		return t.en
	}
	return t.ja
}

// option is one choice of a select field.
type option struct {
	value string
	label text
}

// fieldLabel labels one field of a form, with its choices when it has a
// fixed set.
type fieldLabel struct {
	text
	options []option
	hint    text
}

// common is the scope of the labels every form shares.
const common = "*"

// stepScope is the label scope of a clerk step's form.
func stepScope(path string) string { return "step:" + path }

// fieldLabels label the forms' fields, keyed by scope (a procedure's name,
// a clerk step's stepScope, or common) and the field's JSON path. A
// procedure added to the catalog later gets its form from its start
// request; only labels are added here (without them the JSON names show).
var fieldLabels = map[string]map[string]fieldLabel{
	common: {
		"terminalId":                {text: text{"統合端末", "Counter terminal"}, hint: text{"例: T0001", "e.g. T0001"}},
		"application.residentCode":  {text: text{"住民票コード", "Resident code"}, hint: text{"11桁の数字", "11 digits"}},
		"application.name":          {text: text{"氏名", "Name"}},
		"application.birthDate":     {text: text{"生年月日", "Date of birth"}, hint: text{"YYYY-MM-DD", "YYYY-MM-DD"}},
		"application.sex":           {text: text{"性別", "Sex"}, options: []option{{"male", text{"男", "Male"}}, {"female", text{"女", "Female"}}}},
		"application.address":       {text: text{"住所", "Address"}},
		"application.formerSurname": {text: text{"旧氏（記載がある場合）", "Former surname (if recorded)"}},
		"application.alias":         {text: text{"通称（記載がある場合）", "Alias (if recorded)"}},
		"application.signing":       {text: text{"署名用電子証明書", "Signing certificate"}},
		"application.userAuth":      {text: text{"利用者証明用電子証明書", "User-authentication certificate"}},
		"proxy.name":                {text: text{"代理人の氏名", "Proxy's name"}},
		"proxy.address":             {text: text{"代理人の住所", "Proxy's address"}},
		"proxy.relationship":        {text: text{"本人との関係", "Relationship to the applicant"}},
		"renewalCode":               {text: text{"更新コード（有効期限通知書の委任状による更新の場合）", "Renewal code (a renewal with the expiry notice's proxy form)"}, hint: text{"例: ABCD-EFGH-JKLM-NPQR", "e.g. ABCD-EFGH-JKLM-NPQR"}},
		"residentCode":              {text: text{"住民票コード", "Resident code"}, hint: text{"11桁の数字", "11 digits"}},
		"signing":                   {text: text{"署名用電子証明書", "Signing certificate"}},
		"userAuth":                  {text: text{"利用者証明用電子証明書", "User-authentication certificate"}},
		"serials":                   {text: text{"電子証明書のシリアル番号（分かる場合、空白区切り）", "Certificate serial numbers (if known, space-separated)"}},
		"cardSerial":                {text: text{"カードの番号", "Card serial"}},
		"cardLost":                  {text: text{"カードを紛失した（カードは読み取らない）", "The card was lost (it is not read)"}},
		"addressMunicipality":       {text: text{"住所地の市区町村コード", "Address municipality's code"}, hint: text{"6桁の数字", "6 digits"}},
		"delivery": {text: text{"通知書の受取方法", "How the notice is received"}, options: []option{
			{"mail", text{"郵送（本人限定受取郵便）", "By mail (to the person only)"}},
			{"pickup", text{"機構の窓口で受け取る", "Collected at the Organization's counter"}}}},
		"disclosureCase": {text: text{"開示通知書に記載の受付番号", "Case number printed on the disclosure notice"}, hint: text{"例: jlis-131016-20261201-000001", "e.g. jlis-131016-20261201-000001"}},
		// A correction request's items (第2 4): each a record of the
		// disclosure, what is to be done to which of its fields, and why.
		"items":        {text: text{"訂正等を求める事項", "Items to correct"}, hint: text{"開示通知書に記載の記録ごとに1件（20件まで）", "One per record of the disclosure notice (up to 20)"}},
		"items.serial": {text: text{"電子証明書のシリアル番号", "Certificate serial number"}},
		"items.action": {text: text{"求める訂正等", "What is asked"}, options: []option{
			{"correct", text{"訂正", "Correct"}}, {"add", text{"追加", "Add"}}, {"delete", text{"削除", "Delete"}}}},
		"items.field": {text: text{"対象の項目", "Field of the record"}, options: []option{
			{"municipality", text{"発行した市区町村", "Issuing municipality"}},
			{"counterpart", text{"対応証明書のシリアル番号", "Counterpart certificate's serial"}},
			{"revocation_reason", text{"失効の事由", "Revocation reason"}},
			{"record", text{"記録全体（削除のみ）", "The whole record (delete only)"}}}},
		"items.value":     {text: text{"正しい内容（削除の場合は空欄）", "The correct value (empty to delete)"}},
		"items.statement": {text: text{"訂正等を求める理由", "Why it is wrong"}},
		"handOverAt": {text: text{"カードの交付場所", "Where the card is handed over"}, options: []option{
			{"relay", text{"この市区町村（経由市区町村）", "Here (the relay municipality)"}},
			{"address", text{"住所地市区町村", "The address municipality"}}}},
	},
	"inperson-revocation": {
		"reason": {text: text{"失効の事由", "Reason"}, options: revocationReasons},
	},
	"proxy-revocation": {
		"reason": {text: text{"失効の事由", "Reason"}, options: revocationReasons},
	},
	"audit-finding": {
		"category": {text: text{"指摘の区分", "What the finding is about"}, options: []option{
			{"procedure", text{"手続の実施", "How a procedure was done"}},
			{"pin_confirmation", text{"暗証番号の代行入力と本人の意思確認", "Clerk-typed PINs and their confirmation"}},
			{"access_log", text{"個人情報の閲覧", "Reads of personal data"}},
			{"records", text{"記録・書類の保存", "Records and documents kept"}},
			{"disposal", text{"書類の廃棄", "Disposal of documents"}},
			{"terminal", text{"統合端末の管理", "Terminal management"}},
			{"other", text{"その他", "Other"}}}},
		"subject": {text: text{"対象（受付番号・期間・端末。個人情報は書かない）", "Subject (a case number, a period, a terminal; no personal data)"}},
		"summary": {text: text{"指摘の内容", "The finding"}},
	},
	stepScope("record-correction"): {
		"correction": {text: text{"是正の内容", "How the finding was corrected"}},
	},
	stepScope("confirm-closed"): {
		"closed": {text: text{"是正を確認し指摘を終結する", "The correction closes the finding"}},
		"note":   {text: text{"差し戻す理由・備考", "Why it is sent back (note)"}},
	},
	stepScope("cancel"): {
		"reason": {text: text{"取消しの理由", "Reason for the cancellation"}},
	},
	stepScope("identity-check"): {
		"documentType": {text: text{"本人確認書類", "Identity document"}, options: []option{
			{"individual_number_card", text{"個人番号カード", "Individual number card"}},
			{"drivers_license", text{"運転免許証", "Driver's licence"}},
			{"passport", text{"旅券", "Passport"}},
			{"residence_card", text{"在留カード", "Residence card"}},
			{"other_photo_id", text{"その他官公署発行の写真付き証明書", "Other official photo ID"}}}},
		"person": {text: text{"確認した人", "Whose documents"}, options: []option{
			{"", text{"手続が待っている人", "The person the procedure waits for"}},
			{"applicant", text{"申請者本人", "The applicant"}},
			{"proxy", text{"代理人", "The proxy"}},
			{"legal_representative", text{"法定代理人", "The legal representative"}}}},
		"verified":        {text: text{"書類により本人であることを確認した", "The documents prove the person's identity"}},
		"powerOfAttorney": {text: text{"委任状を確認した（代理人の場合）", "The power of attorney was shown (for a proxy)"}},
	},
	stepScope("pin-entry"): {
		"reason": {text: text{"代行入力の理由", "Why a clerk types the PIN"}},
	},
	stepScope("confirm-intent"): {
		"note": {text: text{"確認の方法・備考", "How it was confirmed (note)"}},
	},
	stepScope("reply"): {
		"caseNumber": {text: text{"回答書に記載の受付番号", "Case number printed on the reply"}},
		"code":       {text: text{"回答書の照合番号", "Reply code"}},
	},
	stepScope("review"): {
		"terminalId": {text: text{"カードを挿入した統合端末", "Terminal holding the applicant's card"}},
		"approve":    {text: text{"承認する", "Approve"}},
		"reason":     {text: text{"承認しない理由", "Reason if not approved"}},
	},
	stepScope("decide-correction"): {
		"reason": {text: text{"決定の理由（通知書に記載）", "Reason for the decision (printed on the notice)"}},
	},
	stepScope("extend-deadline"): {
		"reason": {text: text{"延長の理由", "Reason for the extension"}},
	},
}

var revocationReasons = []option{
	{"cessationOfOperation", text{"本人の意思による失効（cessationOfOperation）", "The holder's wish (cessationOfOperation)"}},
	{"keyCompromise", text{"秘密鍵の漏えい・カードの紛失（keyCompromise）", "Key leaked or card lost (keyCompromise)"}},
}

// labelOf is a field's label in scope, then in common, then its JSON path.
func labelOf(scope, path string) fieldLabel {
	if l, ok := fieldLabels[scope][path]; ok {
		return l
	}
	if l, ok := fieldLabels[common][path]; ok {
		return l
	}
	return fieldLabel{text: text{path, path}}
}

// errorFields say beside which field the gateway's error codes belong:
// the first field of the form whose JSON path ends with one of them.
var errorFields = map[string][]string{
	"bad_resident_code":           {"residentCode"},
	"bad_delivery":                {"delivery"},
	"bad_disclosure_case":         {"disclosureCase"},
	"unknown_disclosure":          {"disclosureCase"},
	"not_disclosed":               {"disclosureCase"},
	"not_disclosed_to_requester":  {"disclosureCase"},
	"correction_period_passed":    {"disclosureCase"},
	"not_in_register":             {"residentCode"},
	"other_municipality_resident": {"residentCode"},
	"outside_delegation":          {"residentCode"},
	"delegation_ended":            {"residentCode"},
	"missing_name":                {"name"},
	"bad_birth_date":              {"birthDate"},
	"bad_sex":                     {"sex"},
	"missing_address":             {"application.address"},
	"no_certificate_requested":    {"signing", "serials"},
	"no_pin_requested":            {"signing"},
	"missing_proxy":               {"proxy.name"},
	"unknown_terminal":            {"terminalId"},
	"terminal_not_authorised":     {"terminalId"},
	"lost_card_present":           {"terminalId"},
	"bad_address_municipality":    {"addressMunicipality"},
	"bad_hand_over":               {"handOverAt"},
	"reason_not_allowed":          {"reason"},
	"unknown_certificate":         {"serials"},
	"bad_card_serial":             {"cardSerial"},
	"unknown_card":                {"cardSerial"},
	"not_holder":                  {"cardSerial", "serials"},
}

// procedureTitles are the procedures' names in English (the catalog holds
// the manual's Japanese title).
var procedureTitles = map[string]string{
	"inperson-issuance":           "Issuance or renewal of certificates (in person)",
	"proxy-issuance":              "Issuance or renewal of certificates (by proxy)",
	"relay-forwarding":            "Application through a relay municipality",
	"relay-issuance":              "Issuance of an application received by a relay municipality",
	"inperson-revocation":         "Revocation on application or leak/loss report (in person)",
	"proxy-revocation":            "Revocation on application or leak/loss report (by proxy)",
	"loss-report":                 "Hold and revocation on a card-loss report",
	"inperson-hold-release":       "Release of the user-authentication certificate's hold (in person)",
	"proxy-hold-release":          "Release of the user-authentication certificate's hold (by proxy)",
	"inperson-pin-change":         "PIN change (in person)",
	"inperson-pin-reset":          "PIN reset (in person)",
	"proxy-pin-reset":             "PIN reset (by proxy)",
	"exofficio-revocation":        "Counter work for an ex-officio revocation",
	"exofficio-revocation-batch":  "Counter work for ex-officio revocations (batch)",
	"inperson-disclosure-request": "Disclosure request (in person)",
	"proxy-disclosure-request":    "Disclosure request (by proxy)",
	"audit-finding":               "A compliance-audit finding and its correction",
}

// stepLabels name the steps of a case (kit and procedures).
var stepLabels = map[string]text{
	"reception":            {"受付", "Reception"},
	"register_check":       {"住民基本台帳との照合", "Resident register check"},
	"identity_check":       {"本人確認", "Identity check"},
	"second_visit":         {"再来庁時の本人確認", "Identity check at the second visit"},
	"card_check":           {"カードの確認", "Card check"},
	"pin_confirmation":     {"本人の意思確認（第二の職員）", "Applicant's intent (second clerk)"},
	"pin_setting":          {"暗証番号の設定", "PIN setting"},
	"key_generation":       {"鍵ペアの生成", "Key generation"},
	"issuance":             {"電子証明書の発行", "Certificate issuance"},
	"card_write":           {"カードへの書込み", "Writing the card"},
	"revoke_old":           {"旧電子証明書の失効", "Revoking the old certificates"},
	"fee":                  {"手数料", "Fee"},
	"documents":            {"申請書類の保存", "Filing the documents"},
	"inquiry":              {"照会書の作成", "Preparing the inquiry letter"},
	"inquiry_mailing":      {"照会書の郵送", "Mailing the inquiry letter"},
	"reply_wait":           {"回答書の到着待ち", "Waiting for the reply"},
	"targets":              {"対象の電子証明書", "Certificates concerned"},
	"revocation":           {"失効", "Revocation"},
	"records":              {"記録", "Records"},
	"hold_check":           {"一時保留の確認", "Hold check"},
	"pin_verify":           {"暗証番号の照合", "PIN verification"},
	"release":              {"一時保留の解除", "Releasing the hold"},
	"status_change":        {"状態の変更", "Status change"},
	"pin_change":           {"暗証番号の変更", "PIN change"},
	"pin_reset":            {"暗証番号の初期化", "PIN reset"},
	"hand_over":            {"カードの交付", "Handing the card over"},
	"pin_notice":           {"暗証番号の届出", "PIN notice"},
	"forwarded":            {"住所地市区町村へ送付済み", "Forwarded to the address municipality"},
	"relay_review":         {"経由市区町村からの申請の審査", "Review of the forwarded application"},
	"exofficio_revocation": {"職権失効", "Ex-officio revocation"},
	"revocation_records":   {"失効の記録", "Revocation records"},
	"holder_notice":        {"本人への通知", "Notice to the holder"},
	"finding_correction":   {"指摘の是正", "Correcting the finding"},
	"finding_confirmation": {"是正の確認", "Confirming the correction"},
	"done":                 {"完了", "Done"},
	"rejected":             {"却下", "Rejected"},
	"lapsed":               {"期限切れ", "Lapsed"},
	"failed":               {"失敗", "Failed"},
	"cancelled":            {"取消し", "Cancelled"},
}

// stepLabel names a step, or a step log entry such as identity_check:applicant.
func stepLabel(lang, step string) string {
	if l, ok := stepLabels[step]; ok {
		return l.in(lang)
	}
	base, rest, _ := strings.Cut(step, ":")
	if l, ok := stepLabels[base]; ok {
		return l.in(lang) + " (" + rest + ")"
	}
	return step
}

var statusLabels = map[string]text{
	"open":      {"処理中", "Open"},
	"completed": {"完了", "Completed"},
	"rejected":  {"却下", "Rejected"},
	"lapsed":    {"期限切れ", "Lapsed"},
	"failed":    {"失敗", "Failed"},
	"cancelled": {"取消し", "Cancelled"},
}

var roleLabels = map[string]text{
	"clerk":    {"窓口職員", "Counter clerk"},
	"manager":  {"管理者", "Manager"},
	"auditor":  {"監査担当", "Auditor"},
	"operator": {"機構の担当者", "Organization operator"},
	"register": {"住民基本台帳担当", "Resident register"},
}

var officeKindLabels = map[string]text{
	"municipality": {"市区町村", "Municipality"},
	"post_office":  {"郵便局", "Post office"},
	"organization": {"機構", "The Organization"},
}

// waitingLabels name who a case waits for (the MadoguchiWaiting role).
var waitingLabels = map[string]text{
	"clerk":        {"職員の操作", "A clerk"},
	"second_clerk": {"第二の職員による本人の意思確認", "A second clerk's confirmation"},
	"applicant":    {"申請者（統合端末のタッチパネル等）", "The applicant (touch panel, card)"},
	"proxy":        {"代理人の回答書", "The proxy's reply"},
	"terminal":     {"統合端末（応答なし）", "The terminal (not responding)"},
	"relay":        {"経由市区町村", "The relay municipality"},
	"address":      {"住所地市区町村", "The address municipality"},
	"manager":      {"管理者による是正", "The manager's correction"},
	"auditor":      {"監査担当による確認", "An auditor's confirmation"},
}

// stepActions are the clerk steps a case is expected to take at each
// step, shown first on its page; the procedure's other steps are there
// too, folded (the workflow's validator refuses one that does not apply).
var stepActions = map[string][]string{
	"reception":        {"identity-check", "pin-entry"},
	"register_check":   {"identity-check", "pin-entry"},
	"identity_check":   {"identity-check", "pin-entry"},
	"second_visit":     {"identity-check"},
	"card_check":       {"pin-entry"},
	"pin_confirmation": {"confirm-intent"},
	"inquiry_mailing":  {"inquiry-mailed"},
	"reply_wait":       {"reply", "extend-deadline"},
	"relay_review":     {"review"},
	"hand_over":        {"hand-over"},
	// An audit finding's steps (第3 10).
	"finding_correction":   {"record-correction"},
	"finding_confirmation": {"confirm-closed"},
}

var stepTitles = map[string]text{
	"cancel":            {"手続の取消し", "Cancel the procedure"},
	"identity-check":    {"本人確認", "Identity check"},
	"pin-entry":         {"暗証番号の代行入力を申し出る", "Declare that a clerk types the PIN"},
	"confirm-intent":    {"本人の意思確認（第二の職員）", "Confirm the applicant's intent (second clerk)"},
	"inquiry-mailed":    {"照会書を郵送した", "The inquiry letter was mailed"},
	"reply":             {"回答書の受付", "Take the reply"},
	"review":            {"経由市区町村からの申請の審査", "Review the forwarded application"},
	"hand-over":         {"カードを交付した", "The card was handed over"},
	"extend-deadline":   {"期限の延長", "Extend the deadline"},
	"record-correction": {"是正を記録する（管理者）", "Record the correction (manager)"},
	"confirm-closed":    {"是正を確認する（監査担当）", "Confirm the correction (auditor)"},
}

func stepTitle(lang, path string) string {
	if t, ok := stepTitles[path]; ok {
		return t.in(lang)
	}
	return path
}

func labelIn(m map[string]text, lang, key string) string {
	if t, ok := m[key]; ok {
		return t.in(lang)
	}
	return key
}

// ui are the console's own words.
var ui = map[string]text{
	"deadlines":                  {"期限のある手続", "Deadlines"},
	"alldeadlines":               {"すべて", "All"},
	"due":                        {"期限", "Due"},
	"overdue":                    {"期限超過", "Overdue"},
	"intime":                     {"期限内", "In time"},
	"nodeadlines":                {"期限のある未完了の手続はありません。", "No open cases with a deadline."},
	"deadlineshint":              {"開示・訂正の請求は30日以内に決定する（法第59条）。期限を過ぎたものを先頭に示します。", "Disclosures and corrections are decided within 30 days (Art. 59); overdue cases come first."},
	"app":                        {"窓口 — 公的個人認証サービス", "madoguchi — JPKI back office"},
	"signin":                     {"サインイン", "Sign in"},
	"signout":                    {"サインアウト", "Sign out"},
	"login":                      {"ログイン名", "Login"},
	"password":                   {"パスワード", "Password"},
	"expired":                    {"セッションの有効期限が切れました。もう一度サインインしてください。", "Your session has expired; please sign in again."},
	"signedout":                  {"サインアウトしました。", "You have signed out."},
	"badform":                    {"画面の有効期限が切れました。もう一度操作してください。", "The form has expired; please try again."},
	"signedin":                   {"サインイン中", "Signed in"},
	"office":                     {"所属", "Office"},
	"role":                       {"役割", "Role"},
	"home":                       {"待ち一覧", "Waiting list"},
	"cases":                      {"手続一覧", "Cases"},
	"start":                      {"手続の開始", "Start a procedure"},
	"waiting":                    {"この団体で操作を待っている手続", "What your office is waiting on"},
	"nowaiting":                  {"待っている手続はありません。", "Nothing is waiting."},
	"nocases":                    {"該当する手続はありません。", "No cases."},
	"casenumber":                 {"受付番号", "Case number"},
	"procedure":                  {"手続", "Procedure"},
	"step":                       {"段階", "Step"},
	"status":                     {"状態", "Status"},
	"waitingfor":                 {"待っているもの", "Waiting for"},
	"openedat":                   {"受付日時", "Opened"},
	"manual":                     {"手続マニュアル", "Manual"},
	"submit":                     {"送信", "Submit"},
	"startit":                    {"この内容で開始する", "Start the procedure"},
	"nopin":                      {"暗証番号はこの画面では入力しません。申請者が統合端末のタッチパネルで入力します。", "PINs are never typed here: the applicant types them on the terminal's touch panel."},
	"notfound":                   {"お探しの手続は見つかりません", "No such case"},
	"notfoundtext":               {"この受付番号の手続はないか、この団体では表示できません。", "There is no case with this number that your office may see."},
	"error":                      {"処理できませんでした", "The request could not be completed"},
	"errortext":                  {"処理中に問題が発生しました。しばらくしてから再度お試しください。", "Something went wrong on our side; try again shortly."},
	"accepted":                   {"受け付けました。", "Accepted."},
	"started":                    {"手続を開始しました。", "The procedure has started."},
	"atpanel":                    {"申請者が統合端末のタッチパネルで暗証番号を入力するのを待っています。", "Waiting for the applicant to type the PIN on the terminal's touch panel."},
	"atpanelclerk":               {"代行入力する職員が統合端末のタッチパネルで暗証番号を入力するのを待っています", "Waiting for the clerk who enters the PIN to type it on the touch panel"},
	"pinenteredby":               {"暗証番号を代行入力する職員", "PIN entered by"},
	"pinconfirmedby":             {"本人の意思を確認した職員", "Intent confirmed by"},
	"youentered":                 {"あなたはこの手続の暗証番号を代行入力する職員です。本人の意思確認は別の職員が行ってください。", "You are the clerk entering this case's PIN: another clerk must confirm the applicant's intent."},
	"confirmbutton":              {"申請者本人が暗証番号を決めたことを確認しました", "I confirm the applicant decided the PIN"},
	"otheractions":               {"その他の操作", "Other steps"},
	"steplog":                    {"経過", "Step log"},
	"at":                         {"日時", "When"},
	"actor":                      {"担当", "By"},
	"note":                       {"備考", "Note"},
	"certificates":               {"発行した電子証明書", "Certificates issued"},
	"kind":                       {"種類", "Kind"},
	"serial":                     {"シリアル番号", "Serial"},
	"notafter":                   {"有効期限", "Valid until"},
	"letters":                    {"帳票", "Letters"},
	"disclosurenotice":           {"認証業務情報開示通知書", "Disclosure notice"},
	"extensionnotice":            {"期限延長通知書", "Extension notice"},
	"correctionnotice":           {"訂正等決定通知書", "Correction decision notice"},
	"inquiryletter":              {"照会書兼回答書（PDF）", "Inquiry letter (PDF)"},
	"revocationnotice":           {"失効通知書（PDF）", "Revocation notice (PDF)"},
	"reason":                     {"理由", "Reason"},
	"nothingtostart":             {"この役割で開始できる手続はありません。", "Your role starts no procedure here."},
	"filter":                     {"状態で絞り込む", "Filter by status"},
	"language":                   {"言語", "Language"},
	"refreshing":                 {"この画面は自動で更新されます。", "This page refreshes by itself."},
	"formerror":                  {"入力内容を確認してください。", "Please check the form."},
	"required":                   {"必須", "required"},
	"history":                    {"手続の履歴", "Case history"},
	"allprocedures":              {"すべての手続", "All procedures"},
	"openedfrom":                 {"受付日（から）", "Opened from"},
	"openedto":                   {"受付日（まで）", "Opened until"},
	"applyfilter":                {"絞り込む", "Filter"},
	"paging":                     {"ページ", "Pages"},
	"firstpage":                  {"最初のページ", "First page"},
	"nextpage":                   {"次のページ", "Next page"},
	"historylogged":              {"この履歴の閲覧は、閲覧した職員・日時とともに記録されます。", "Opening this history is recorded, with who opened it and when."},
	"backtocase":                 {"手続の画面に戻る", "Back to the case"},
	"temporalui":                 {"Temporal UI で見る", "Open in the Temporal UI"},
	"historyname":                {"名前", "Name"},
	"historyinput":               {"入力", "Input"},
	"historyresult":              {"結果", "Result"},
	"accesslog":                  {"履歴の閲覧記録", "History access log"},
	"addrow":                     {"事項を1件追加する", "Add an item"},
	"rowlegend":                  {"{n}件目", "Item {n}"},
	"removerow":                  {"{n}件目を削除する", "Remove item {n}"},
	"accessloghint":              {"この団体の手続の履歴を、誰がいつ閲覧したかの記録です。新しいものから表示します。", "Who opened which of your office's case histories, and when; newest first."},
	"stafflogin":                 {"職員のログイン名", "Staff login"},
	"accessedfrom":               {"閲覧日（から）", "Opened from"},
	"accessedto":                 {"閲覧日（まで）", "Opened until"},
	"search":                     {"検索する", "Search"},
	"accessedat":                 {"閲覧日時", "Opened at"},
	"accessoffice":               {"閲覧した団体", "From office"},
	"accesskind":                 {"閲覧したもの", "What was read"},
	"accesskind_all":             {"すべて", "All"},
	"accesskind_history":         {"手続の履歴", "Case history"},
	"accesskind_register_record": {"住民記録", "Register record"},
	"accesskind_disclosure":      {"開示情報", "Disclosure"},
	"noaccesses":                 {"該当する閲覧記録はありません。", "No openings match."},
}

// waitingTexts put what a case waits for (the state's English waitingFor,
// "who: what") in Japanese; a bilingual one is split instead.
var waitingTexts = map[string]string{
	"identity documents": "本人確認書類の確認",
	"the proxy's identity documents and power of attorney": "代理人の本人確認書類と委任状の確認",
	"the proxy's identity documents (second visit)":        "代理人の本人確認書類の確認（再来庁時）",
	"applicant's intent":                 "申請者本人の意思の確認",
	"mail the inquiry letter":            "照会書の郵送",
	"insert the card":                    "統合端末へのカードの挿入",
	"touch panel":                        "タッチパネルでの暗証番号の入力",
	"touch panel (PIN)":                  "タッチパネルでの暗証番号の入力",
	"touch panel (current and new PIN)":  "タッチパネルでの現在と新しい暗証番号の入力",
	"touch panel (new PIN)":              "タッチパネルでの新しい暗証番号の入力",
	"hand the card over":                 "カードの交付",
	"review the forwarded application":   "経由市区町村から送付された申請の審査",
	"the application":                    "申請の送付",
	"the proxy's identity documents":     "代理人の本人確認書類の確認",
	"the reply":                          "回答書",
	"the applicant's identity documents": "申請者の本人確認書類の確認",
	"address municipality":               "住所地市区町村",
	"second clerk":                       "第二の職員",
	"relay municipality":                 "経由市区町村",
	"terminal":                           "統合端末",
	"applicant":                          "申請者",
	"clerk":                              "職員",
	"proxy":                              "代理人",
}

func waitingText(lang, what string) string {
	if strings.Contains(what, " / ") {
		return pickLang(lang, what)
	}
	if lang == langEN {
		return what
	}
	who, rest, ok := strings.Cut(what, ": ")
	if !ok {
		if ja, found := waitingTexts[what]; found {
			return ja
		}
		return what
	}
	if ja, found := waitingTexts[who]; found {
		who = ja
	}
	until := ""
	if head, day, cut := strings.Cut(rest, ", by "); cut {
		rest, until = head, "（"+day+" まで）"
	}
	if ja, found := waitingTexts[rest]; found {
		rest = ja
	}
	return who + ": " + rest + until
}

// The retention and disposal's words (第3 3; disposals.go, templates/disposals.html).
func init() {
	procedureTitles["retention-disposal"] = "Retention of application documents: disposal of what is past its period"
	for k, v := range map[string]text{
		"disposal_list":     {"廃棄リストの作成", "Drawing up the disposal list"},
		"disposal_approval": {"廃棄リストの提出と承認", "Submission and approval of the list"},
		"disposal":          {"廃棄と記録", "Disposal and its record"},
	} {
		stepLabels[k] = v
	}
	for k, v := range map[string]text{
		"disposals":                {"廃棄リスト", "Disposal list"},
		"disposalshint":            {"保存期間を経過した申請書等と発行記録の日ごとの一覧です。管理者が提出し、別の管理者が承認すると廃棄されます。開示・訂正等の請求中の方の文書は保留されます。", "The day's documents and issuance records past their retention. A manager submits the list and another manager approves it; then it is disposed of. Documents of a person with an open disclosure or correction request are held."},
		"disposalday":              {"対象日", "Day"},
		"show":                     {"表示", "Show"},
		"submittedby":              {"提出者", "Submitted by"},
		"approvedby":               {"承認者", "Approved by"},
		"disposaldue":              {"廃棄対象", "Due"},
		"disposalheld":             {"保留", "Held"},
		"disposaldone":             {"廃棄済み", "Disposed of"},
		"disposalsubmit":           {"承認を依頼する（提出）", "Submit for approval"},
		"disposalapprove":          {"承認して廃棄する", "Approve and dispose"},
		"disposaldone:submit":      {"廃棄リストを提出しました", "The list was submitted"},
		"disposaldone:approve":     {"廃棄リストを承認しました。廃棄を記録します", "The list was approved; the disposal is being recorded"},
		"disposalkind":             {"種別", "Kind"},
		"disposalitem":             {"文書・証明書", "Document or certificate"},
		"disposalheldby":           {"保留中（請求）", "Held by request"},
		"nodisposallist":           {"この日の廃棄リストはありません", "There is no disposal list for this day"},
		"disposal:document":        {"申請書等", "Application document"},
		"disposal:issuance_record": {"発行記録", "Issuance record"},
		"disposal:due":             {"廃棄対象", "Due"},
		"disposal:drawn_up":        {"作成済み（提出待ち）", "Drawn up (to be submitted)"},
		"disposal:submitted":       {"提出済み（承認待ち）", "Submitted (to be approved)"},
		"disposal:approved":        {"承認済み", "Approved"},
		"disposal:disposed":        {"廃棄済み", "Disposed of"},
		"disposal:nothing_due":     {"廃棄対象なし", "Nothing due"},
		"disposal:lapsed":          {"承認期限切れ", "Lapsed unapproved"},
		"disposal:cancelled":       {"取消し", "Cancelled"},
	} {
		ui[k] = v
	}
}

// feeLabels are the fees page's (第3 5), merged into ui.
var feeLabels = map[string]text{
	"fees":                                   {"手数料", "Fees"},
	"feeshint":                               {"電子証明書の発行手数料は手続の内容から自動で計算されます。還付は取消・障害で終了した手続の分です。帳票には受付番号と金額のみを記載します。", "Issuance fees are computed from each case; refunds are those of cases cancelled or failed after their fee. The reports hold case numbers and amounts only."},
	"feestoday":                              {"本日", "Today"},
	"feesmonth":                              {"今月", "This month"},
	"feeitem":                                {"項目", "Item"},
	"feecount":                               {"件数", "Count"},
	"feetotal":                               {"手数料計", "Total"},
	"feerefunds":                             {"還付件数", "Refunds"},
	"feerefunded":                            {"還付額", "Refunded"},
	"feenet":                                 {"差引", "Net"},
	"yen":                                    {"円", "yen"},
	"certificate_issuance":                   {"電子証明書の発行", "Certificate issuance"},
	"certificate_reissue_after_card_reissue": {"カード再交付後の電子証明書の発行", "Certificates on a re-issued card"},
}

func init() {
	for k, v := range feeLabels {
		ui[k] = v
	}
}

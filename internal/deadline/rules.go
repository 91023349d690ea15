package deadline

import "time"

// DefaultReplyDays is the embedded default of the proxy inquiry's reply
// period, in days; the municipality may set another.
const DefaultReplyDays = 30

// InquiryReplyRule is the proxy inquiry's reply period (第2 1(2)): the
// municipality's setting of days, counted from the day after the application
// (民法 第140条, 第141条). The reply is brought to the counter, an act the
// person does at the office, so a last day on a closed day rolls to the next
// office day (地方自治法 第4条の2 第4項, 民法 第142条).
func InquiryReplyRule(days int) Rule {
	return Rule{Kind: InquiryReply, Length: days, Unit: Day, Count: FirstDayExcluded, Roll: true,
		Basis: "民法第140条・第141条（初日不算入）、地方自治法第4条の2第4項・民法第142条（休日は翌開庁日に満了）"}
}

// ReplyDeadline is the reply deadline of a proxy inquiry applied for at
// applied, with a reply period of days (DefaultReplyDays when not positive).
// Its Fires is the workflow's timer, its LastDay the date the letter prints.
func ReplyDeadline(applied time.Time, days int) Deadline {
	if days <= 0 {
		days = DefaultReplyDays
	}
	return InquiryReplyRule(days).From(applied)
}

// DisclosureRule is the Organization's disclosure deadline (第2 3): 公的個人
// 認証法 第59条 第1項, 「開示請求を受けた日から起算して30日以内」, so the day
// the request is received is the first day. It is the Organization's own
// duty, not an act of a person at an office, so it does not roll: a last
// day on a closed day stays, and the work is due by the office day before.
var DisclosureRule = Rule{Kind: Disclosure, Length: 30, Unit: Day, Count: FirstDayIncluded,
	Basis: "公的個人認証法第59条第1項（開示請求を受けた日から起算して30日以内）"}

// DisclosureDeadline is the disclosure deadline of a request the
// Organization (or a municipality forwarding it) received at received.
func DisclosureDeadline(received time.Time) Deadline { return DisclosureRule.From(received) }

// DefaultExtensionDays is how far the Organization's policy extends a
// disclosure deadline it cannot meet. 第59条 第2項 sets no length (the
// Organization names the new date in its notice); 30 days follows the
// general rule for disclosure (個人情報保護法 第83条 第2項).
const DefaultExtensionDays = 30

// ExtendDisclosure is the new disclosure deadline when the original one is
// extended by days (DefaultExtensionDays when not positive): the days run on
// from the day after the original last day, and, like it, do not roll.
func ExtendDisclosure(original Deadline, days int) Deadline {
	if days <= 0 {
		days = DefaultExtensionDays
	}
	return Rule{Kind: DisclosureExtension, Length: days, Unit: Day, Count: FirstDayIncluded}.FromDate(original.LastDay.AddDays(1))
}

// ExtensionNoticeDeadline is by when the extension notice (the reason and
// the new date, in writing) must be sent: within the original period
// (第59条 第2項 「同項に規定する期間内に」), so it is the original deadline.
func ExtensionNoticeDeadline(original Deadline) Deadline {
	original.Kind = ExtensionNotice
	return original
}

// IssuanceRecordRule is how long the Organization keeps an issuance record
// (発行記録): 公的個人認証法 第8条・第27条 with 施行令 第2条・第18条, until the
// day on which 10 years have passed counted from the day after the last day
// of the certificate's validity. Use IssuanceRecordKept.
var IssuanceRecordRule = Rule{Kind: IssuanceRecordRetention, Length: 10, Unit: Year, Count: FirstDayIncluded,
	Basis: "公的個人認証法第8条・第27条、同法施行令第2条・第18条（有効期間の満了すべき日の翌日から起算して10年を経過する日まで）"}

// IssuanceRecordKept is the retention of the issuance record of a
// certificate whose validity ends on expiry (its last day). The record may be
// disposed of from Fires on.
func IssuanceRecordKept(expiry Date) Deadline { return IssuanceRecordRule.FromDate(expiry.AddDays(1)) }

// RevocationFileRule is how long a day's revocation-information file
// (失効情報ファイル) is kept: 施行令 第7条・第23条, 10 years from the day it
// was made, the first day not counted unless it was made at 00:00.
var RevocationFileRule = Rule{Kind: RevocationFileRetention, Length: 10, Unit: Year, Count: FirstDayExcluded,
	Basis: "公的個人認証法第16条・第35条、同法施行令第7条・第23条（作成した日から10年間、民法第140条）"}

// RevocationFileKept is the retention of a revocation-information file made
// at made.
func RevocationFileKept(made time.Time) Deadline { return RevocationFileRule.From(made) }

// ApplicationDocumentsRule is how long a municipality keeps the application
// documents (申請書等, 第3 3): the years and the counting its document rules
// (文書管理規程) set; most count from 1 April after the fiscal year in which
// the case was completed (NextFiscalYear).
func ApplicationDocumentsRule(years int, count Count) Rule {
	return Rule{Kind: ApplicationDocumentsRetention, Length: years, Unit: Year, Count: count,
		Basis: "第3 3 申請書等の保存（市区町村の文書管理規程が定める期間）"}
}

// ExpiryNoticeDay is the day to send the expiry notice of a certificate
// whose renewal opens on opens (validity.RenewalOpensOn): no law sets it; it
// is sent on that day, or on the office day before when the offices are
// closed, so that it never arrives after renewal opened.
func ExpiryNoticeDay(opens Date) Date { return OfficeDayOnOrBefore(opens) }

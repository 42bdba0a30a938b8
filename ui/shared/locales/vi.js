// Vietnamese message catalogue.
// REVIEW STATUS: machine-assisted translation by a non-native speaker, NOT reviewed by a native speaker.
// Treat it as a draft; see REVIEW.md. Keys and placeholders must match en.js (ui/tests/locales.test.mjs).
export default {
  "banner.label": "Đồng ý thu thập dữ liệu sử dụng",
  "banner.consent": "Chúng tôi chỉ truy cập dữ liệu sử dụng khi có sự đồng ý của bạn.",
  "banner.optOutAnyTime": "Bạn có thể từ chối và xóa dữ liệu bất cứ lúc nào.",
  "banner.learnMore": "Tìm hiểu thêm",
  "banner.learnMoreLabel": "Tìm hiểu thêm về cách trang web này dùng Offen Fair Web Analytics (mở trong thẻ mới)",
  "banner.allow": "Tôi đồng ý",
  "banner.deny": "Tôi không đồng ý",
  "banner.thanks": "Cảm ơn bạn đã giúp trang web này tốt hơn.",
  "banner.manage": "Để quản lý dữ liệu sử dụng của bạn, hãy mở Auditorium.",
  "banner.openAuditorium": "mở Auditorium",
  "banner.openAuditoriumLabel": "Mở Auditorium để quản lý dữ liệu sử dụng của bạn (mở trong thẻ mới)",
  "banner.continue": "Tiếp tục",
  "banner.continueLabel": "Tiếp tục và đóng thông báo này",

  "auditorium.documentTitle": "Dữ liệu sử dụng của bạn – Offen Fair Web Analytics",
  "auditorium.title": "Dữ liệu sử dụng của bạn",
  "auditorium.intro":
    "Bạn đang xem dữ liệu sử dụng của mình. Dữ liệu đã được giải mã trong trình duyệt này; không ai khác đọc được nó ở dạng này.",
  "auditorium.product": "Offen Fair Web Analytics",
  "auditorium.close": "Đóng",
  "auditorium.closeLabel": "Đóng Auditorium",
  "auditorium.loading": "Đang tải dữ liệu sử dụng của bạn…",
  "auditorium.working": "Vui lòng chờ…",
  "auditorium.error": "Không thể tải dữ liệu sử dụng của bạn: {message}",
  "auditorium.errorHint": "Hãy tải lại trang để thử lại.",
  "auditorium.errorTimeout": "kho dữ liệu không phản hồi kịp thời",
  "auditorium.cookiesBlocked":
    "Có vẻ trình duyệt của bạn đang chặn cookie cho trang này. Offen không thể ghi nhớ lựa chọn của bạn hay hiển thị dữ liệu sử dụng.",
  "auditorium.explainer": "Điều này có nghĩa là gì?",

  "privacy.heading": "Quyền riêng tư",
  "privacy.statusAllow": "Bạn đã đồng ý. Trang web này có thể thu thập dữ liệu sử dụng của bạn.",
  "privacy.statusDeny": "Bạn đã từ chối. Không có dữ liệu sử dụng nào được thu thập.",
  "privacy.statusUnknown": "Bạn chưa quyết định. Không có dữ liệu sử dụng nào được thu thập cho đến khi bạn đồng ý.",
  "privacy.optOutText": "Từ chối và xóa dữ liệu sử dụng",
  "privacy.optOut": "Từ chối",
  "privacy.deleteText": "Vẫn đồng ý, chỉ xóa dữ liệu sử dụng",
  "privacy.delete": "Xóa",
  "privacy.optInText": "Đồng ý và cho phép truy cập dữ liệu sử dụng của bạn",
  "privacy.optIn": "Đồng ý",
  "privacy.doneOptIn": "Bạn đã đồng ý.",
  "privacy.doneOptOut": "Bạn đã từ chối. Dữ liệu sử dụng của bạn đã bị xóa khỏi máy chủ và trình duyệt này.",
  "privacy.doneDelete": "Dữ liệu sử dụng của bạn đã bị xóa. Bạn vẫn đang đồng ý.",
  "privacy.explainer":
    "Từ chối sẽ xóa mọi dữ liệu sử dụng về bạn trên máy chủ và trong trình duyệt này, đồng thời dừng thu thập. Xóa giữ nguyên lựa chọn của bạn nhưng xóa dữ liệu đã thu thập đến nay.",

  "export.heading": "Mang dữ liệu của bạn theo",
  "export.text": "Tải xuống toàn bộ dữ liệu sử dụng mà trình duyệt này lưu về bạn, đã giải mã, dưới dạng tệp JSON.",
  "export.button": "Tải dữ liệu của tôi (JSON)",
  "export.done": "Dữ liệu sử dụng của bạn đã được lưu thành {filename}.",

  "range.label": "Khoảng thời gian",
  "range.last24Hours": "24 giờ qua",
  "range.yesterday": "Hôm qua",
  "range.last7Days": "7 ngày qua",
  "range.last30Days": "30 ngày qua",
  "range.last6Weeks": "6 tuần qua",
  "range.last12Weeks": "12 tuần qua",
  "range.last6Months": "6 tháng qua",
  "range.notAvailable": "{label} (không khả dụng)",

  "chart.heading": "Lượt xem trang và trang web",
  "chart.summary": "{pageviews} lượt xem trang trên {websites} trang web, trong {count} khoảng thời gian",
  "chart.bar": "{date}: {pageviews} lượt xem trang, {websites} trang web",
  "chart.empty": "Không có dữ liệu cho khoảng thời gian đã chọn.",
  "chart.explainer":
    "Mỗi cột cho biết bạn đã xem bao nhiêu trang trong khoảng thời gian đó trên các trang web dùng bản cài đặt Offen này.",

  "metrics.heading": "Chỉ số chính",
  "metrics.pageviews": "Lượt xem trang",
  "metrics.websites": "Số trang web",
  "metrics.sessions": "Số phiên",
  "metrics.pageDepth": "Độ sâu trang trung bình",
  "metrics.bounceRate": "Tỷ lệ thoát",
  "metrics.mobile": "Người dùng di động",
  "metrics.pageload": "Thời gian tải trang trung bình",
  "metrics.yes": "Có",
  "metrics.no": "Không",
  "metrics.none": "–",
  "metrics.ms": "{value} ms",
  "metrics.seconds": "{value} giây",
  "metrics.explainer":
    "Một phiên là một lần truy cập, kết thúc khi bạn đóng trình duyệt. Độ sâu trang là số trang mỗi phiên; tỷ lệ thoát là phần phiên chỉ có một lượt xem trang.",

  "tables.heading": "Trang và nguồn hàng đầu",
  "tables.pages": "Trang hàng đầu",
  "tables.referrers": "Trang giới thiệu",
  "tables.campaigns": "Chiến dịch",
  "tables.sources": "Nguồn",
  "tables.landingPages": "Trang đích",
  "tables.exitPages": "Trang thoát",
  "tables.url": "URL",
  "tables.source": "Nguồn",
  "tables.campaign": "Chiến dịch",
  "tables.pageviews": "Lượt xem trang",
  "tables.sessions": "Phiên",
  "tables.pageDepth": "Độ sâu trang",
  "tables.landings": "Lượt vào",
  "tables.exits": "Lượt thoát",
  "tables.noReferrer": "Trực tiếp hoặc không rõ",
  "tables.empty": "Không có dữ liệu",
  "tables.filterBy": "Chỉ hiển thị dữ liệu của {value}",
  "tables.filterActive": "Chỉ hiển thị dữ liệu có {property} là {value}.",
  "tables.filterEmpty": "Không có dữ liệu nào khớp với bộ lọc này trong khoảng thời gian đã chọn.",
  "tables.removeFilter": "Bỏ bộ lọc",
  "tables.explainer": "Chọn một mục để chỉ xem dữ liệu thuộc về mục đó.",
  "filter.href": "trang",
  "filter.referrer": "trang giới thiệu",
  "filter.campaign": "chiến dịch",
  "filter.source": "nguồn",
  "filter.landing": "trang đích",
  "filter.exit": "trang thoát",
  "filter.geo": "quốc gia",

  "retention.heading": "Tỷ lệ quay lại hằng tuần",
  "retention.caption": "Tỷ lệ các tuần mà bạn đã quay lại",
  "retention.start": "Khoảng bắt đầu",
  "retention.initial": "7 ngày đầu",
  "retention.row": "Bắt đầu từ {days} ngày trước",
  "retention.later": "{days} ngày sau",
  "retention.explainer":
    "Mỗi hàng bắt đầu bằng một khoảng 7 ngày trong bốn tuần qua và cho biết bạn có quay lại trong các khoảng sau đó hay không.",

  "glossary.heading": "Thuật ngữ cơ bản",
  "glossary.auditorium": "Auditorium",
  "glossary.auditoriumText":
    "Chính trang này. Trang cho thấy dữ liệu sử dụng mà các trang web dùng bản cài đặt Offen này đã thu thập về bạn và cho phép bạn quản lý dữ liệu đó.",
  "glossary.installation": "Bản cài đặt Offen",
  "glossary.installationText":
    "Một máy chủ chạy Offen Fair Web Analytics cho một hoặc nhiều trang web. Người vận hành tự quản lý nó; không có bên thứ ba nào nhận dữ liệu.",
  "glossary.operator": "Người vận hành",
  "glossary.operatorText":
    "Cá nhân hoặc tổ chức vận hành trang web và bản cài đặt Offen này. Họ xem thống kê của tất cả khách truy cập đã đồng ý.",
  "glossary.cookies": "Cookie",
  "glossary.cookiesText":
    "Những đoạn văn bản nhỏ mà trình duyệt lưu cho một trang web. Offen chỉ dùng chúng để ghi nhớ lựa chọn của bạn, tìm dữ liệu đã mã hóa của bạn và gom các lượt xem trang thành phiên.",
  "glossary.uniqueUser": "Người dùng duy nhất",
  "glossary.uniqueUserText":
    "Một trình duyệt đã đồng ý, được nhận biết bằng một ID ngẫu nhiên. ID này không cho biết bạn là ai và khác nhau với mỗi trang web.",
  "glossary.uniqueSession": "Phiên duy nhất",
  "glossary.uniqueSessionText":
    "Một lần truy cập trang web. Bắt đầu từ lượt xem trang đầu tiên và kết thúc khi bạn đóng trình duyệt.",
  "glossary.id": "ID",
  "glossary.idText":
    "Một chuỗi ngẫu nhiên liên kết dữ liệu sử dụng với trình duyệt của bạn. Nó không được tạo từ tên, địa chỉ hay thiết bị của bạn.",
  "glossary.encryption": "Mã hóa đầu cuối",
  "glossary.encryptionText":
    "Dữ liệu sử dụng được mã hóa trong trình duyệt của bạn trước khi gửi đi. Chỉ bạn và người vận hành có khóa; máy chủ lưu bản mã mà nó không đọc được.",

  "faq.heading": "Câu hỏi thường gặp",
  "faq.whatQ": "Offen Fair Web Analytics là gì?",
  "faq.whatA":
    "Một công cụ phân tích tôn trọng quyền riêng tư. Người vận hành trang web biết trang của họ được dùng thế nào, còn bạn có thể xem, tải xuống và xóa chính những dữ liệu đó về mình tại đây.",
  "faq.collectedQ": "Những gì được thu thập?",
  "faq.collectedA":
    "Chỉ sau khi bạn đồng ý: địa chỉ mỗi trang bạn xem, trang bạn đến từ đó (không kèm truy vấn), thời gian tải trang, bạn có dùng thiết bị di động hay không, thời điểm, một ID phiên và quốc gia có thể của bạn, suy ra từ cài đặt múi giờ.",
  "faq.notCollectedQ": "Những gì không được thu thập?",
  "faq.notCollectedA":
    "Không có địa chỉ IP, không có user agent hay thông tin thiết bị, không có kích thước màn hình, không lấy dấu vân tay trình duyệt và không theo dõi giữa các trang web. Thời lượng truy cập không được đo.",
  "faq.encryptionQ": "Dữ liệu của tôi được bảo vệ thế nào?",
  "faq.encryptionA":
    "Trình duyệt của bạn mã hóa mỗi lượt xem trang bằng một khóa mà chỉ bạn và người vận hành có. Máy chủ chỉ lưu bản mã, và dữ liệu cũ hơn thời hạn lưu trữ sẽ bị xóa.",
  "faq.cookiesQ": "Những cookie nào được dùng?",
  "faq.cookiesA":
    "consent (lựa chọn của bạn), user (một ID ngẫu nhiên để tìm dữ liệu đã mã hóa của bạn), session-… (mỗi trang web một cái, cho đến khi bạn đóng trình duyệt) và một cookie kiểm tra ngắn bị xóa ngay. Không có cookie nào được đặt trước khi bạn quyết định, trừ consent khi bạn từ chối.",
  "faq.deleteQ": "Làm sao để xóa dữ liệu của tôi?",
  "faq.deleteA":
    "Dùng “Xóa” trong phần Quyền riêng tư để xóa mọi dữ liệu sử dụng mà vẫn đồng ý, hoặc “Từ chối” để xóa dữ liệu và dừng thu thập.",
  "faq.optOutQ": "Điều gì xảy ra khi tôi từ chối?",
  "faq.optOutA":
    "Dữ liệu sử dụng của bạn bị xóa trên máy chủ và trong trình duyệt này; chỉ còn một cookie ghi nhớ lựa chọn để bạn không bị hỏi lại.",
  "faq.exportQ": "Tôi có thể mang dữ liệu của mình theo không?",
  "faq.exportA":
    "Có. “Tải dữ liệu của tôi (JSON)” lưu mọi lượt xem trang mà trình duyệt này giải mã được cho bạn vào một tệp có thể mở bằng bất kỳ trình soạn thảo văn bản nào.",
  "faq.perSiteQ": "Vì sao tôi lại được hỏi trên một trang web khác?",
  "faq.perSiteA":
    "Sự đồng ý được đưa ra cho từng trang web, và dữ liệu của bạn được mã hóa bằng một khóa khác cho mỗi trang, nên các trang web không thể gộp những gì họ biết về bạn.",
};

"""Every sentence residents and members read, in one place, so wording changes touch no logic."""

# -- words a person types (#13: one table per answer kind, read through bot.talk.words) -------
# Compared after bot.talk.words.normalise: full-width digits and letters made half-width,
# trailing punctuation and spaces dropped, so "好的。" and "５" match "好的" and "5".
CANCEL_WORDS = ("取消", "退出", "算了", "不弄了", "不办了")
BACK_WORDS = ("返回", "上一步", "回到上一步")
HELP_WORDS = ("帮助", "?", "help", "怎么用", "菜单")
YES_WORDS = ("确认", "确定", "提交", "是", "是的", "好", "好的", "好吧", "嗯", "嗯嗯", "对", "对的",
             "可以", "行", "没问题", "同意", "ok", "1", "y", "yes")
NO_WORDS = ("不", "不是", "不对", "否", "不要", "不行", "no", "n")
SKIP_WORDS = ("跳过", "没有", "没有照片", "没照片", "无", "不用", "不用了", "不需要", "没", "暂无", "略过")
DONE_WORDS = ("完成", "好了", "发完了", "就这些", "没有了", "结束", "完了")
CONFIRM_WORDS = YES_WORDS
KEEP_GRID_WORDS = ("不变", "默认", "就这里", "本网格", "就在这", "就是这里", "用这个位置")
FOLLOW_WORDS = ("关注", "跟进")
SUBMIT_ANYWAY_WORDS = ("仍然提交", "继续提交", "提交")
USE_TEXT_WORDS = ("用这段", "就用这段", "用这个", "就这样")
REDO_TEXT_WORDS = ("重新描述", "重写", "重新写")
ADD_TEXT_WORDS = ("补充", "补充说明", "再补充")
GREETING_WORDS = ("你好", "您好", "在吗", "在不在", "有人吗", "喂", "hi", "hello", "早上好", "下午好", "晚上好")
THANKS_WORDS = ("谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "辛苦了", "辛苦", "好的谢谢", "谢啦", "thanks")
# Rating words → the codes stored on a ticket.
RATING_WORDS = {
    "满意": "satisfied", "非常满意": "satisfied", "很满意": "satisfied", "特别满意": "satisfied",
    "五星": "satisfied", "5星": "satisfied", "五颗星": "satisfied", "非常好": "satisfied",
    "很好": "satisfied", "好评": "satisfied", "点赞": "satisfied", "5": "satisfied", "4": "satisfied",
    "四星": "satisfied", "4星": "satisfied",
    "基本满意": "basic", "一般": "basic", "还行": "basic", "还可以": "basic", "凑合": "basic",
    "三星": "basic", "3星": "basic", "3": "basic",
    "不满意": "unsatisfied", "很不满意": "unsatisfied", "非常不满意": "unsatisfied", "很差": "unsatisfied",
    "差": "unsatisfied", "太差了": "unsatisfied", "差评": "unsatisfied", "一星": "unsatisfied",
    "两星": "unsatisfied", "二星": "unsatisfied", "1星": "unsatisfied", "2星": "unsatisfied",
    "2": "unsatisfied", "1": "unsatisfied",
}
RATING_NAMES = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}

# -- general -------------------------------------------------------------------
APOLOGY = "抱歉，系统开了个小差，您的消息没有处理成功。请稍后再发一次，给您添麻烦了。"
BUSY = "您上一条消息还在处理中，请稍等几秒再发。"
KEPT_FOR_LATER = "系统繁忙，您的消息已收到，稍后处理完会再回复您，无需重复发送。"
CANCELLED = "好的，已取消。需要时随时发送“留言”“预约”或“查询”。"
NOTHING_TO_GO_BACK = "已经是第一步了。"

RESIDENT_MENU = (
    "您可以：\n"
    "· 发送“留言”反映问题，党员会在承诺时间内回复；\n"
    "· 发送“预约”预约党员服务日；\n"
    "· 发送“查询”查看您的留言办理进度；\n"
    "· 发送“评价”为已办结的留言打分。\n"
    "任何时候发送“取消”可以退出当前操作。"
)
RESIDENT_HINT = "没太明白您的意思。" + RESIDENT_MENU
MEMBER_MENU = (
    "党员工作台可用指令：\n"
    "· 我的工单 —— 查看待办\n"
    "· 工单 <编号> —— 查看详情\n"
    "· 接单 <编号> / 回复 <编号> <内容> / 办结 <编号> <说明> / 转派 <编号> <部门或党员>\n"
    "· 签到 / 积分 —— 每日签到、查看本月积分和排名\n"
    "· 到场 A<预约号> / 未到 A<预约号> —— 登记服务日接待\n"
    "· 询问 <编号> <问题> —— 请居民补充信息（等待期间不计时）\n"
    "· 书记：指派 <编号> <党员>，督办 —— 本支部超期工单，加分 <党员> <分值> <事由>"
)
MEMBER_UNKNOWN = "您好，这个企业微信应用只为党员开放。如需开通，请联系支部书记。"
UNSUPPORTED_KIND = "暂时只能处理文字、语音、图片和位置消息。" + "发送“帮助”查看可以做什么。"

# -- subscribe / QR binding ------------------------------------------------------
WELCOME = "欢迎关注！这里是党员留言互动平台，有事您说话，党员来办理。\n" + RESIDENT_MENU
WELCOME_GRID = ("欢迎来自{community}（{grid}）的居民！您的留言会直接交给本网格的党员{member}办理。\n"
                + RESIDENT_MENU)
BOUND_GRID = "已为您绑定到{community}（{grid}），之后的留言会直接交给本网格的党员。"

# -- leave a message (留言) -------------------------------------------------------
LM_HELP = ("留言分几步：说明问题 → 可选上传照片 → 说明地点 → 确认提交。"
           "每一步都可以发送“返回”回到上一步，或发送“取消”退出。")
LM_ASK_TEXT = "请用文字或语音描述您遇到的问题（什么事、多久了、影响到谁）。"
LM_TEXT_TOO_SHORT = "描述太短了，请至少写{min}个字，说清楚是什么问题。"
LM_TEXT_TOO_LONG = "描述太长了（{n}字），请精简到{max}字以内，重点说明问题和地点。"
LM_TEXT_EMPTY = "没有收到文字。请用文字描述问题（只发表情我们看不明白哦）。"
LM_VOICE_NO_TEXT = "这段语音没能识别成文字，请改用文字描述，谢谢。"
LM_ASK_PHOTOS = "如有现场照片，请直接发送（最多{max}张）；没有照片请回复“跳过”。"
LM_PHOTO_OK = "已收到第{n}张照片。还可以再发{left}张，发完请回复“完成”。"
LM_PHOTO_FULL = "已收到{n}张照片，达到上限。"
LM_PHOTO_HINT = "请发送照片，或回复“跳过”/“完成”进入下一步。"
LM_ASK_PLACE_GRID = ("问题发生在哪里？可以发送位置、直接输入地址，"
                     "或回复“不变”表示就在{community}（{grid}）。")
LM_ASK_PLACE = "问题发生在哪里？请发送位置（聊天框“+”→位置），或直接输入详细地址。"
LM_PLACE_TOO_SHORT = "地址太简略了，请写到小区、楼栋或路名，或者直接发送位置。"
LM_BAD_LOCATION = "这个位置看起来不对，请重新发送位置，或直接输入地址。"
LM_SUMMARY = ("请核对您的留言：\n"
              "问题：{text}\n"
              "照片：{photos}张\n"
              "地点：{place}\n"
              "分类：{category}\n"
              "承诺：{response_h}小时内响应，{reply_h}小时内答复\n"
              "{duplicate}"
              "回复“确认”提交，“返回”修改地点，“取消”放弃。")
LM_SUMMARY_URGENT = "【紧急】已识别为紧急事项，将优先处理。\n"
LM_DUP_OWN = ("您已有一条相似的留言 {no}（{status}）正在办理。"
              "回复“关注”继续跟进那一条（不重复提交），或回复“仍然提交”新建留言。\n")
LM_DUP_GRID = ("近期邻居已反映过类似问题 {no}（{status}）。"
               "回复“关注”一起跟进那一条，或回复“仍然提交”新建留言。\n")
LM_CONFIRM_HINT = "请回复“确认”提交，或“返回”修改，“取消”放弃。"
LM_CREATED = ("留言已提交，编号 {no}。\n党员会在{response_due}前响应，{reply_due}前答复。"
              "发送“查询”可随时查看进度。")
LM_FOLLOWED = "好的，已为您关注留言 {no}，办理有进展会通知您。"
LM_RATE_LIMITED = "您今天已经提交了{n}条留言，为保证办理质量，请明天再提交。紧急情况请直接拨打110/119/120。"
LM_OFFER = ("看起来您在反映一个问题：“{preview}”\n回复“留言”把它提交给党员办理，"
            "或继续补充说明。")
LM_NOT_SUBSCRIBED = "请先关注公众号再留言。"

# -- my tickets (查询) ----------------------------------------------------------------
MY_NONE = "您还没有留言。发送“留言”反映问题。"
MY_HEADER = "您的留言（最近{n}条）："
MY_LINE = "{no}｜{status}｜{category}\n  办理人：{assignee}｜{due}\n  {last}"

STATUS_NAMES = {
    "new": "待分派", "assigned": "已分派", "responded": "已接单", "replied": "已答复",
    "resolved": "已办结", "rated": "已评价", "closed": "已关闭", "reopened": "重新办理",
    "transferred": "已转派", "merged": "已合并", "closed-unresolved": "未解决关闭",
    "waiting": "待居民补充",
}
PRIORITY_NAMES = {"urgent": "紧急", "normal": "一般"}

# -- member notices --------------------------------------------------------------
CARD_NEW_TITLE = "新工单 {no}｜{priority}"
CARD_NEW_BODY = ("居民：{resident}\n分类：{category}｜{department}\n地点：{place}\n"
                 "内容：{text}\n响应时限：{response_due}\n答复时限：{reply_due}")
PRIORITY_RAISED = "工单 {no} 经情绪分析升级为紧急，请优先处理。"
PHOTO_OUTSIDE_FLOW = "收到照片。如果要反映问题，请先发送“留言”，再按提示上传照片。"
LOCATION_OUTSIDE_FLOW = "收到位置。如果要反映问题，请先发送“留言”，再按提示说明地点。"
CARD_ACTIONS = (("接单", "accept"), ("回复", "reply"), ("办结", "resolve"), ("转派", "transfer"))
PHOTO_LOST = "您留言 {no} 的第{n}张照片没能保存（微信服务器已过期或不可用），如需补充请在回复时说明。"

# -- members at work (WeCom) -----------------------------------------------------------
W_NEED_NO = "请带上工单编号，例如：{example}"
W_NO_SUCH = "没有找到工单 {no}，请核对编号（可发送“我的工单”查看）。"
W_OUT_OF_SCOPE = "工单 {no} 不在您的办理范围（只能处理分派给您或本网格的工单；书记可处理本支部工单），未做任何修改。"
W_SECRETARY_ONLY = "“{action}”只有支部书记可以使用。"
W_EMPTY_REPLY = "回复内容不能为空，例如：回复 {no} 已联系物业，明天上午维修。"
W_EMPTY_SUMMARY = "请写上办结说明，例如：办结 {no} 路灯已更换，恢复照明。"
W_CLOSED = "工单 {no} 当前状态为“{status}”，不能再{action}。"
W_ACCEPTED = "已接单 {no}。请在{reply_due}前答复居民。"
W_ALREADY_ACCEPTED = "工单 {no} 已经接单。"
W_REPLIED = "已把回复发送给居民（工单 {no}）。"
W_RESOLVED = "工单 {no} 已办结，已请居民评价。"
W_TRANSFERRED = "工单 {no} 已转派给{target}。"
W_TRANSFER_UNKNOWN = "没有找到“{target}”。可以转派给部门（{departments}）或本支部党员（姓名或账号）。"
W_TRANSFER_SAME = "工单 {no} 已经由{target}办理。"
W_ASSIGNED = "工单 {no} 已指派给{target}。"
W_ASK_REPLY = "请输入给居民的回复（工单 {no}），发送“取消”放弃。"
W_ASK_SUMMARY = "请输入办结说明（工单 {no}），发送“取消”放弃。"
W_ASK_TARGET = "请输入转派对象：部门名称或党员姓名（工单 {no}），发送“取消”放弃。"
W_CARD_EXPIRED = "这张卡片已失效：工单 {no} 当前状态为“{status}”。发送“工单 {no}”查看最新情况。"
W_QUEUE_EMPTY = "您目前没有待办工单。"
W_QUEUE_HEADER = "您的待办工单（{n}件，按截止时间排序）："
W_QUEUE_LINE = "{flag}{no}｜{status}｜{category}｜{due}\n  {text}"
W_OVERDUE_EMPTY = "本支部目前没有超期工单。"
W_OVERDUE_HEADER = "督办台账：本支部超期工单{n}件"
W_OVERDUE_LINE = "{no}｜{assignee}｜{status}｜超期{hours}小时\n  {text}"
W_DETAIL = ("工单 {no}｜{status}｜{priority}\n分类：{category}｜{department}\n地点：{place}\n"
            "办理人：{assignee}\n响应时限：{response_due}｜答复时限：{reply_due}\n内容：{text}\n处理记录：")
W_DETAIL_EVENT = "· {at} {what}"
W_UNKNOWN_COMMAND = "没有看懂这条指令。\n" + MEMBER_MENU
SECRETARY_ALERT_UNSATISFIED = "【不满意】居民对工单 {no} 的办理不满意，已重新交办给{assignee}，请督办。"
EVENT_NAMES = {
    "created": "居民提交", "assigned": "分派", "accepted": "接单", "replied": "答复",
    "resolved": "办结", "rated": "居民评价", "reopened": "重新办理", "transferred": "转派",
    "closed": "关闭", "followed": "居民关注", "priority_raised": "升级为紧急", "refused": "越权操作被拒绝",
    "photo_saved": "照片已保存", "photo_lost": "照片未能保存", "rating_comment": "评价意见",
    "closed_unrated": "超时未评价关闭", "recategorised": "改分类", "asked": "请居民补充",
    "supplemented": "居民补充",
}

# -- the resident hears every step ---------------------------------------------------------
R_ACCEPTED = "您的留言 {no} 已由党员{member}接单，将在{reply_due}前答复您。"
R_REPLY = "【留言 {no} 的回复】\n{text}\n——{member}"
R_TRANSFERRED = "您的留言 {no} 已转交{target}办理。"
R_RESOLVED = ("您的留言 {no} 已办结：{summary}\n"
              "请为办理结果评价：回复“满意”“基本满意”或“不满意”（也可以打1–5分）。")
NOTICE_FIRST = "您的留言有新进展"
NOTICE_REMARK = "请进入公众号发送任意消息查看详情。"
R_PARKED_PREFACE = "（您之前的留言有了新进展，因超过48小时未互动暂存，现补发）\n"

# -- rating (评价) ---------------------------------------------------------------------------
RATE_NOTHING = "您目前没有待评价的留言。"
RATE_NOT_YOURS = "留言 {no} 不是您提交的，不能评价。"
RATE_ASK = "请评价留言 {no} 的办理结果：回复“满意”“基本满意”或“不满意”（也可以打1–5分）。"
RATE_HINT = "请回复“满意”“基本满意”或“不满意”，或者打1–5分。"
RATE_ASK_COMMENT = "还想说点什么吗？直接输入意见，或回复“跳过”结束。"
RATE_THANKS = "感谢您的评价，我们会继续努力！"
RATE_REOPENED = "很抱歉让您不满意。留言 {no} 已重新交办，支部书记会督办。"
RATE_COMMENT_SAVED = "您的意见已记录，谢谢！"

# -- scheduler: SLA, digests, stars, compliance ----------------------------------------------
STAGE_NAMES = {"response": "响应", "reply": "答复"}
SLA_REMIND = "【提醒】工单 {no} 的{stage}时限是{due}，还剩{left}，请尽快处理。\n{text}"
SLA_ESCALATE = "【超期督办】工单 {no}（办理人：{assignee}）已超过{stage}时限 {due}，请督办。\n{text}"
CALENDAR_UNKNOWN = ("【系统提示】{year}年的法定节假日尚未配置，工单时限暂按周一至周五计算。"
                    "请管理员在 config.yaml 的 calendar.holidays / calendar.workdays 中补充。")
DIGEST_TITLE = "**{branch} 工作周报**（{start}–{end}）"
DIGEST_LINE = "> {name}：{value}{change}"
DIGEST_OVERDUE_TITLE = "**督办台账**：超期 {n} 件"
DIGEST_OVERDUE_LINE = "- {no} {assignee} 超期{hours}小时"
DIGEST_HOT = "**本周热点**：{words}"
DIGEST_TOP = "**积分榜**：{members}"
DIGEST_NONE = "暂无"
STARS = "【月度之星】{month}，{branch}积分前列的党员：{names}。向他们学习，为他们点赞！"
COMPLIANCE_ALERT = ("【制度执行预警·{level}】{branch}近{days}天{metric}为{actual}，标准为{standard}，"
                    "差距{gap}。请关注。")
COMPLIANCE_METRICS = {"response_h": "平均响应时间", "satisfaction_pct": "群众满意率",
                      "participation_pct": "党员参与率"}
LEVELS = {"high": "高", "medium": "中"}

# -- booking a service day (预约) ------------------------------------------------------------
WEEKDAY_NAMES = "一二三四五六日"
BK_HELP = ("预约分几步：选服务类型 → 选日期 → 选时段 → 简单说明事由 → 确认。"
           "回复序号即可，发送“返回”回上一步，“取消”退出。")
BK_NO_DAYS = "近期没有可预约的党员服务日，请过几天再来看看。"
BK_NO_TYPES = "本支部暂时没有党员能提供这类服务，请直接“留言”说明需求。"
BK_TOO_MANY = "您已有{n}个未完成的预约，请先完成或取消后再预约（发送“我的预约”查看）。"
BK_ASK_TYPE = "请选择服务类型（回复序号）：\n{options}"
BK_ASK_DAY = "请选择日期（回复序号）：\n{options}"
BK_DAY_LINE = "{n}. {month}月{day}日（周{weekday}）余{left}位"
BK_ASK_SLOT = "{month}月{day}日可选时段（回复序号）：\n{options}"
BK_SLOT_LINE = "{n}. {start}–{end} 余{left}位"
BK_DAY_FULL = "这一天已经约满了，请换一天。"
BK_ASK_DESCRIPTION = "请简单说明要咨询或办理的事（一两句话即可）。"
BK_DESCRIPTION_HINT = "请用文字简单说明事由，例如：想咨询老年人居家养老补贴怎么申请。"
BK_CHOICE_HINT = "请回复列表中的序号（1–{n}）。"
BK_SUMMARY = ("请核对预约：\n服务：{type}\n时间：{month}月{day}日（周{weekday}）{start}–{end}\n"
              "地点：{place}\n事由：{description}\n回复“确认”提交，“返回”修改，“取消”放弃。")
BK_SLOT_TAKEN = "抱歉，这个时段刚刚被约满了，请重新选择。"
BK_NO_MEMBER = "抱歉，这一天没有能提供该服务的党员，请换一天。"
BK_CONFIRMED = ("预约成功！预约号 A{id}\n时间：{month}月{day}日（周{weekday}）{start}–{end}\n地点：{place}\n"
                "接待党员：{member}\n前一天会提醒您。发送“我的预约”可查看、取消（取消 序号）或改期（改期 序号）。")
BK_RESCHEDULED = "已改期，原预约已取消。"
BK_MEMBER_NEW = ("【新预约 A{id}】{month}月{day}日（周{weekday}）{start}–{end}\n服务：{type}\n地点：{place}\n"
                 "居民：{resident}\n事由：{description}\n结束后请回复“到场 A{id}”或“未到 A{id}”。")
BK_MEMBER_CANCELLED = "【预约取消】A{id}（{month}月{day}日 {start}）居民已取消。"
BK_MINE_NONE = "您目前没有预约。发送“预约”预约党员服务日。"
BK_MINE_HEADER = "您的预约："
BK_MINE_LINE = "{n}. {month}月{day}日（周{weekday}）{start} {type}｜{place}｜党员{member}"
BK_MINE_FOOTER = "回复“取消 序号”取消，“改期 序号”改期。"
BK_NO_SUCH = "没有第{n}个预约，请先发送“我的预约”查看序号。"
BK_CANCELLED = "已取消预约 A{id}（{month}月{day}日 {start}）。"
BK_REMIND_RESIDENT = ("【预约提醒】您明天{start}在{place}有党员服务日预约（{type}，党员{member}），请准时到场。"
                      "如需取消请发送“我的预约”。")
BK_REMIND_MEMBER = "【预约提醒】明天{start}在{place}：{type}（预约号 A{id}，事由：{description}）。"
BK_MARKED = "已记录预约 A{id}：{result}。"
BK_MARK_TOO_EARLY = "预约 A{id} 还没开始，结束后再登记。"
BK_MARK_NO_SUCH = "没有找到预约 A{id}，或它不归您接待。"
BK_MARK_NAMES = {"done": "已到场办理", "no_show": "居民未到"}

# -- points (积分) --------------------------------------------------------------------------
PT_CHECKED_IN = "签到成功，积分 +{n}。"
PT_ALREADY = "今天已经签到过了。"
PT_MINE = "{month}您的积分：{total}分，支部排名第{rank}名（共{n}人）。"
PT_LINE = "· {day} {reason} {sign}{points}"
PT_NONE = "本月还没有积分记录。办结工单、服务日接待、每日签到都能获得积分。"
PT_AWARD_USAGE = "用法：加分 <党员姓名或账号> <分值{low}–{high}> <事由>，例如：加分 张三 20 创新“楼道议事会”工作法"
PT_AWARD_RANGE = "创新加分应在{low}到{high}分之间。"
PT_AWARD_WHO = "本支部没有“{who}”这位党员。"
PT_AWARDED = "已为{name}加{points}分（{reason}）。"
PT_AWARDED_TOLD = "【积分】书记为您加{points}分：{reason}。"

# -- personal data ------------------------------------------------------------------------
MY_DATA = ("我们保存的您的信息：\n· 关注状态：{subscribed}\n· 所属网格：{grid}\n· 首次使用：{since}\n"
           "· 留言{tickets}条：\n{ticket_lines}\n· 预约{appointments}个：\n{appointment_lines}\n"
           "发送“删除我的数据”可删除您的身份信息（留言内容会去掉个人信息后保留用于统计）。")
MY_DATA_TICKET = "  {no}｜{status}｜{text}"
MY_DATA_APPOINTMENT = "  {when}｜{type}｜{status}"
MY_DATA_NONE = "  （无）"
ERASE_ASK = ("删除后：您的微信身份与所有留言、预约断开关联，地址、定位、照片和联系方式被清除，"
             "留言文字去掉个人信息后仅用于统计；未送达的消息不再发送。此操作不可恢复。\n"
             "确认请回复“确认删除”，放弃请回复“取消”。")
ERASE_HINT = "请回复“确认删除”或“取消”。"
ERASE_DONE = "您的个人数据已删除。感谢您的使用，欢迎随时回来。"

# -- waiting for the resident ------------------------------------------------------------
W_EMPTY_QUESTION = "请写上要问居民的问题，例如：询问 {no} 请问具体是哪一栋楼？"
W_ASKED = "已向居民询问（工单 {no}），等待期间不计时限；居民回复后会转给您。"
R_ASKED = "关于您的留言 {no}，党员想了解：{question}\n请直接回复补充信息。"
R_SUPPLEMENT_THANKS = "收到您的补充，已转给办理党员（留言 {no}）。"
W_SUPPLEMENT = "【居民补充】工单 {no}：{text}\n时限已顺延{hours}小时。"

# -- #12 lifecycle ----------------------------------------------------------------------------
RESIDENT_LABEL = "居民#{id}"
W_TAKEN_OVER = "工单 {no} 已由{member}接单，今后由其办理，您无需再跟进。"
W_UNSATISFIED_ASSIGNEE = "【不满意】居民对您办理的工单 {no} 不满意，工单已重新交给您办理，请尽快联系居民。"
W_SUPPLEMENTED = "【居民补充】工单 {no}：{text}"
W_EXTENDED_H = "时限已顺延{hours}小时。"
W_EXTENDED_MIN = "时限已顺延{minutes}分钟。"
W_DEPT_NO_HANDLERS = ("“{name}”还没有办理人，未转派。请管理员在 org.yaml 的 departments 中为 {id} "
                      "填写 handlers（党员账号，可加 duty 值班人），再同步组织架构。")
W_DEPT_TRANSFERRED = "工单 {no} 已转派给{department}，由{member}办理。"
W_MERGE_USAGE = "用法：合并 <编号> <并入的编号>，例如：合并 20261120-0002 20261120-0001"
W_MERGE_SELF = "不能把工单 {no} 合并到它自己，未做任何修改。"
W_MERGE_TARGET_DONE = "工单 {into} 当前状态为“{status}”，不能并入；请并入一条仍在办理的工单。"
W_MERGED = "工单 {no} 已合并到 {into}，原留言人已改为关注 {into}。"
W_CLOSE_USAGE = "用法：关闭 <编号> <原因>，例如：关闭 20261120-0001 属于物业合同纠纷，已建议居民向法院起诉"
W_CLOSED_UNRESOLVED = "工单 {no} 已作未解决关闭，原因已告知居民。"
W_RESOLVE_PHOTOS = "如有办结照片，请在{minutes}分钟内直接发到这里，会转给居民。"
W_PHOTO_FORWARDED = "照片已收到，会转给居民（工单 {no}）。"
W_PHOTO_NO_TICKET = "没有等待照片的工单，照片未转发。请先发送“办结 <编号> <说明>”，再在{minutes}分钟内发照片。"
R_MERGED = "您的留言 {no} 与留言 {into} 反映的是同一件事，已合并办理；{into} 有进展会通知您。"
R_CLOSED_UNRESOLVED = ("您的留言 {no} 已关闭，未能解决。原因：{reason}\n如有疑问，可以再次留言。"
                       "对这样处理是否满意？可回复“满意”“基本满意”或“不满意”。")
R_FOLLOW_ACCEPTED = "您关注的留言 {no} 已由党员{member}接单。"
R_FOLLOW_REPLIED = "您关注的留言 {no} 有新答复：{text}"
R_FOLLOW_RESOLVED = "您关注的留言 {no} 已办结：{summary}\n愿意评价可回复“评价 {no}”。"
R_FOLLOW_REOPENED = "您关注的留言 {no} 已重新办理。"
R_FOLLOW_CLOSED = "您关注的留言 {no} 已关闭，未能解决。原因：{reason}"
R_FOLLOW_TRANSFERRED = "您关注的留言 {no} 已转交{target}办理。"
MY_FOLLOWED_HEADER = "您关注的留言（{n}条）："
MY_FOLLOWED_LINE = "{no}｜{status}｜{category}\n  办理人：{assignee}"
RATE_FOLLOWER_THANKS = "感谢您的评价！关注者的评价单独记录，留言人的评价用于考核。"
RATE_FOLLOWER_ALREADY = "您已经评价过留言 {no}，第一次评价有效。"
W_DETAIL_PAGE = "照片、位置和记录：{url}"
CARD_PAGE_KEY = "详情"
CARD_PAGE_LINK = "照片、位置和记录"
PAGE_TITLE = "工单 {no}"
PAGE_STATUS = "状态"
PAGE_ASSIGNEE = "办理人"
PAGE_CATEGORY = "分类"
PAGE_PLACE = "地点"
PAGE_TEXT = "内容"
PAGE_PHOTOS = "居民照片"
PAGE_NO_PHOTOS = "居民没有上传照片"
PAGE_PHOTO_MISSING = "照片未能保存"
PAGE_MAP = "在地图中打开"
PAGE_MAP_APP = "用高德地图打开"
PAGE_NO_LOCATION = "居民没有发送定位"
PAGE_HISTORY = "处理记录"
PAGE_FOLLOWER_RATINGS = "关注者评价"
PAGE_FORBIDDEN = "链接无效或已过期，请在企业微信中重新打开工单卡片，或发送“工单 <编号>”。"
LIFECYCLE_EVENT_NAMES = {
    "merged": "合并到其他工单", "closed_unresolved": "未解决关闭", "follower_rated": "关注者评价",
    "closure_rated": "居民对关闭的评价",
    "resolution_photo": "办结照片", "unfollowed": "取消关注", "merged_in": "并入重复工单",
}
EVENT_NAMES.update(LIFECYCLE_EVENT_NAMES)
# The member menu and the unknown-command answer name the #12 commands too.
MEMBER_MENU = (MEMBER_MENU + "\n· 书记：合并 <编号> <并入的编号>；关闭 <编号> <原因> —— 无法解决时关闭并告知居民"
               "\n· 办结后直接发送现场照片 —— 转给居民")
W_UNKNOWN_COMMAND = "没有看懂这条指令。\n" + MEMBER_MENU
# -- #14 dashboard ----------------------------------------------------------------------
DB_LOGIN_BAD_TOKEN = "令牌不正确，请重新输入。"
DB_LOGIN_NO_TOKEN = "管理员令牌未配置（admin.api_token），只能用企业微信登录。"
DB_OAUTH_FAILED = "企业微信登录失败（{reason}），请从企业微信工作台重新打开。"
DB_OAUTH_STATE = "登录已过期或来源不明，请从企业微信工作台重新打开。"
DB_NOT_A_MEMBER = "您不在本平台的党员名单中，无法查看仪表盘。请联系支部书记开通。"
DB_FORBIDDEN = "您没有查看这个页面的权限：支部页面只对本支部书记和管理员开放。"
DB_BAD_INPUT = "参数有误：{reason}"
DB_BAD_DATE = "日期请写成 2026-11-20 这样的格式，且开始不晚于结束"
DB_BAD_MONTH = "月份请写成 2026-11 这样的格式"
DB_BAD_BRANCH = "没有这个支部"
DB_BAD_FORMAT = "导出格式只能是 csv 或 xlsx"
DB_NOT_FOUND = "没有找到工单 {no}，或它不在您的支部。"
DB_URGED = "已催办工单 {no}，已通知{assignee}。"
DB_URGE_NO_ASSIGNEE = "工单 {no} 还没有办理人，无法催办；请先指派。"
DB_URGE_CLOSED = "工单 {no} 已不在办理中，无需催办。"
DB_URGE_MESSAGE = "【催办】{who}请您尽快办理工单 {no}（{category}），{due_text}。\n{text}"
DB_URGE_DUE_PAST = "已超期{hours}小时"
DB_URGE_DUE_SOON = "将于{due}到期"
DB_WEIGHT_NO_DATA = "近几期没有可评的数据，保持原权重"
DB_WEIGHT_BELOW = "近{n}期平均 {average}%，低于目标 {target}%（{trend}），加权督促"
DB_WEIGHT_ABOVE = "近{n}期平均 {average}%，高于目标 {target}%（{trend}），适当减权"
DB_WEIGHT_AT = "近{n}期平均 {average}%，正好达到目标 {target}%（{trend}），保持"
DB_TREND_UP = "呈上升"
DB_TREND_DOWN = "呈下降"
DB_TREND_FLAT = "持平"
DB_UNASSIGNED = "未分派"
DB_NO_GRID = "未定网格"
DB_DIGEST_LINK = "[打开治理效能仪表盘查看详情]({url})"
DB_ALERT_CARD_TITLE = "制度执行预警·{level}"
DB_ALERT_CARD_BUTTON = "查看仪表盘"
DB_EXPORT_TICKET_COLUMNS = ("编号", "收到时间", "状态", "紧急程度", "分类", "网格", "办理人", "内容", "地址",
                            "首次响应", "首次答复", "办结时间", "评价")
DB_EXPORT_LEDGER_COLUMNS = ("编号", "状态", "分类", "网格", "办理人", "到期时间", "超期小时", "内容")
DB_EXPORT_APPRAISAL_COLUMNS = ("账号", "姓名", "支部", "办结件数", "按时率%", "满意率%", "积分",
                               "参与度%", "办理质量%", "满意度%", "综合得分")
DB_ADMIN_NAME = "管理员"
DB_PAGES = (("overview", "总览"), ("ledger", "督办台账"), ("members", "党员"), ("opinion", "民情"),
            ("forecast", "预测"), ("weights", "考核权重"))
DB_BUCKETS = ("≤4小时", "4–24小时", "24–72小时", ">72小时")
DB_SENTIMENTS = {"negative": "负面", "neutral": "中性", "positive": "正面", "unscored": "待分析"}
DB_PARTS = {"participation": "参与度", "quality": "办理质量", "satisfaction": "满意度"}
# -- #17 exactly once -------------------------------------------------------------------------
# Past the request's deadline: the real answer follows as a customer-service message.
RECEIVED = "已收到，正在处理，稍后回复您。"
LM_ALREADY_SUBMITTED = "这条留言已经提交过了，编号 {no}，无需重复提交。发送“查询”可查看进度。"
BK_ALREADY_BOOKED = "这个预约已经提交过了（预约号 A{id}），无需重复提交。发送“我的预约”可查看。"
# A draft Redis lost (restarted without persistence), by the flow it belonged to.
DRAFT_LOST = {
    "leave_message": "刚才的留言草稿没保存下来，请重新发送“留言”",
    "book_service": "刚才的预约草稿没保存下来，请重新发送“预约”",
}

# -- #16 ready for a real account --
SLA_BATCH_ESCALATE = "【超期督办】{n}件工单已超过时限，请督办："
SLA_BATCH_REMIND = "【提醒】{n}件工单临近时限，请尽快处理："
SLA_BATCH_LINE = "· {no} {stage}时限{due}（{assignee}）"
SLA_BATCH_FOOT = "发送“工单 编号”查看详情。"
SLA_UNASSIGNED = "未分派"
NOTICE_SHORT = "您的留言有新回复"
DIGEST_FAILED = "**未送达消息**：{n} 条（{members}），请管理员在 /api/v1/health 查看原因"
# The WeCom app menu's keys and the member command each one runs.
WECOM_MENU_COMMANDS = {"MY_QUEUE": "我的工单", "OVERDUE": "督办", "CHECKIN": "签到", "POINTS": "积分",
                       "HELP": "帮助"}
# -- #13 conversations that understand people ----------------------------------------------
FLOW_TITLES = {"leave_message": "留言", "book_service": "预约", "rate": "评价", "erase_data": "删除数据",
               "ticket_action": "工单操作"}
FLOW_ALREADY = "您正在{flow}，接着上一步就好："
FLOW_SWITCH_ASK = "您的{current}还没完成。要放弃它、改为{next}吗？回复“是”切换，回复“不”继续{current}。"
KIND_NOT_NOW = "收到。现在正在{flow}，这一步用不上它，请按提示回复："
W_CANCELLED = "好的，已取消，没有发送任何内容。发送“我的工单”查看待办，“帮助”查看指令。"
W_PENDING_DROPPED = "（刚才等待输入的{action}内容（工单 {no}）没有发送。）"
W_CONFIRM_REPLY = "将发送给居民（工单 {no}）：\n“{text}”\n回复“确认”发送，直接输入新内容可替换，发送“取消”放弃。"
W_CONFIRM_HINT = "回复“确认”发送上面的内容，或直接输入新内容替换，发送“取消”放弃。"
W_FLOW_HELP = "按提示输入内容即可；发送“取消”放弃本次操作。输入其他指令（如“我的工单”）会结束本次等待。"
W_NO_AMBIGUOUS = "“{raw}”对应多张工单，请写完整编号：\n{choices}"
W_NO_CHOICE = "· {no}｜{status}｜{text}"
GREETING_REPLY = "您好！有什么可以帮您？直接说明遇到的问题，或发送“留言”反映问题、“帮助”查看更多。"
THANKS_REPLY = "不客气，能帮上忙就好！还有问题随时发“留言”，发送“帮助”查看更多。"
MEMBER_GREETING = "您好！发送“我的工单”查看待办，“帮助”查看全部指令。"
LM_OFFER_MORE = "已补充。目前的描述：“{preview}”\n回复“留言”提交给党员办理，或继续补充说明。"
LM_OFFER_URGENT = ("看起来是紧急情况：“{preview}”\n回复“留言”立即提交给党员优先办理；"
                   "如有危险请先拨打电话求助（火警119、急救120、报警110）。")
LM_ASK_TEXT_DRAFT = ("目前的描述：\n“{text}”\n回复“用这段”继续下一步，“重新描述”清空重写，"
                     "或直接发送文字补充。")
LM_TEXT_ADDED = "已补充。"
LM_TEXT_CLEARED = "好的，已清空。"
LM_TEXT_FULL = "描述已经很长了（{n}字），不能再补充。回复“用这段”继续，或“重新描述”重写。"
LM_LOCATION_KEPT = "已记下您发送的位置，到地点这一步会直接用它。"
LM_ASK_PLACE_SHARED = ("问题发生在哪里？已收到您发送的位置（{label}），回复“就这里”使用它，"
                       "或发送新的位置、直接输入地址。")
LM_LOCATION_FAR = "这个位置不在本平台服务的社区范围内（离最近的网格{km}公里）。请重新发送位置，或直接输入详细地址。"
RATE_SKIPPED = "好的。感谢您的评价！"
RATE_SKIP_SCORE = "好的，先不评价。需要时发送“评价”即可。"
BK_DESCRIPTION_NOT_ANSWER = "请说明要咨询或办理什么事，例如：想咨询老年人居家养老补贴怎么申请。"
APPOINTMENT_STATUS_NAMES = {"booked": "已预约", "cancelled": "已取消", "done": "已到场办理",
                            "no_show": "未到场"}
SUBSCRIBED_NAMES = {True: "已关注", False: "未关注"}
# Safety advice for urgent problems, by the words that trigger it (config safety.advice overrides).
SAFETY_ADVICE = {
    "gas": "【安全提示】闻到燃气味：请立即关闭燃气总阀，打开门窗通风，不要开关电器、不要点火、不要在室内打电话；"
           "人员撤离到室外后拨打燃气公司抢修电话，情况严重请拨打119。",
    "fire": "【安全提示】发生火情：请立即撤离，不要乘坐电梯，用湿毛巾捂住口鼻低姿前进，到安全地点后马上拨打119。",
    "electric": "【安全提示】有人触电或电线漏电：请先切断电源，不要直接用手拉触电的人，用干燥木棍等绝缘物挑开电线；"
                "有人受伤立即拨打120，电力抢修请拨打95598。",
    "person": "【安全提示】有人身处危险（摔倒、受伤、被困）：请不要随意搬动伤者，立即拨打120急救；"
              "涉及违法犯罪或人身安全请拨打110。",
}
DAY_WORDS = {0: "今天", 1: "明天", 2: "后天"}
DAY_PARTS = (("凌晨", 0), ("早上", 6), ("上午", 8), ("中午", 11), ("下午", 13), ("傍晚", 17), ("晚上", 19))
PLAIN_DATE = "{day}（{month}月{date}日）{part}"
PLAIN_DATE_FAR = "{month}月{date}日（周{weekday}）{part}"
W_ASSIGN_UNKNOWN = ("本支部没有“{target}”这位党员。指派只能交给本支部党员：{members}。"
                    "转派给部门请用“转派 <编号> <部门>”。")
MY_DATA_NO_GRID = "未绑定"
LM_PHOTO_EARLY = "已收到第{n}张照片，会附在留言里。"
LM_ASK_MORE = "请直接发送要补充的内容。"
LM_TEXT_ADDED_AT_PHOTOS = "已把这段话补充到问题描述里。"
LM_SHARED_NO_LABEL = "未注明地名"
MY_DUE_RESPONSE = "{due}前响应"
MY_DUE_REPLY = "{due}前答复"
W_REPLIED_ECHO = W_REPLIED + "\n“{text}”"
# -- #18 routing accuracy --
DIGEST_MODEL_KEPT = "**分类模型**：已用{n}件历史工单重新训练并启用（准确率 {before:.0%} → {after:.0%}）"
DIGEST_MODEL_NOT_KEPT = "**分类模型**：重新训练未超过现有分类（{after:.0%} ≤ {before:.0%}），继续使用现有分类"
DIGEST_MODEL_TOO_FEW = "**分类模型**：每类人工确认的工单尚不足{n}件，继续使用关键词分类"
CARD_CATEGORY_GUESS = "（分类为推测，把握{confidence:.0%}；如不对请点“转派”或下方按钮改分类）"
CARD_RECATEGORISE = "改为{category}"

# -- #15 participation: 工作日志, 代录, 公示 / 金点子 / 案例, 红色议事厅 --
LOG_USAGE = "记工作日志：日志 <类别> <内容>，例如“日志 走访 走访独居老人王大爷”。类别：{kinds}"
LOG_EMPTY = "日志内容不能为空，例如“日志 {kind} 今天上午……”。"
LOG_CAP = "今天已记 {cap} 条工作日志，达到每日上限，明天再记。本条未保存。"
LOG_SAVED = "已记工作日志（{kind}），+{points} 分。今天第 {n} 条。{minutes} 分钟内可发送现场照片或位置附在这条日志上。"
LOG_PHOTO_SAVED = "照片已附在今天的工作日志（{kind}）上。"
LOG_PLACE_SAVED = "位置已附在工作日志（{kind}）上。"
LOG_POINTS_REASON = "工作日志：{kind}"
MONTHLY_MIN_MEMBER = ("温馨提醒：本月您已办结 {n} 件群众留言，按要求每月至少 {min} 件。"
                      "月底前还有几天，可以在“我的工单”里看看待办，辛苦了！")
MONTHLY_MIN_SECRETARY = "本月截至今天，办结留言少于 {min} 件的党员（已发提醒）：\n{lines}"
MONTHLY_MIN_LINE = "· {name}：{n} 件"
PROXY_USAGE = "代居民留言：代录 <手机号或姓名> <内容>，例如“代录 13812345678 3号楼路灯坏了”。"
PROXY_WHO = "代录需要居民的手机号或姓名：代录 <手机号或姓名> <内容>。本条未保存。"
PROXY_EMPTY = "请写上居民反映的内容：代录 {who} <内容>。"
PROXY_SAVED_NO_PHONE = ("已代居民留言，编号 {no}（{channel}，联系人 {contact}），已转 {assignee}。"
                        "每一步进展会发给您，请转告居民。")
PROXY_SAVED = (PROXY_SAVED_NO_PHONE + "\n"
               "居民以后关注公众号，发送“绑定手机 {phone_hint} {code}”即可在微信里查看和评价。")
PROXY_NOBODY = "暂无人接收"
PROXY_CHANNELS = {"phone": "电话", "desk": "窗口"}
PROXY_LABEL = "代录居民（{contact}，{member}代录）"
PROXY_RELAY = "【请转告代录居民 {contact}】留言 {no}：\n{content}"
BIND_USAGE = "绑定手机：发送“绑定手机 <手机号> <绑定码>”，绑定码由为您代录留言的党员告知。"
BIND_NONE = "没有找到这个手机号和绑定码对应的代录留言，请核对后再试。"
BIND_LOCKED = "绑定码错误次数过多，请明天再试，或请为您代录的党员协助。"
BIND_DONE = "绑定成功！{n} 条代录留言已转到您的微信：{nos}。发送“查询”可查看进度。"
MY_DATA_BIND_HINT = "\n没有微信时由党员代录的留言，可发送“绑定手机 <手机号> <绑定码>”转到这里。"
CONSENT_ASK = ("是否同意公示？同意后，这件事的办理结果会在社区公示页展示（不含您的姓名、电话和门牌）。"
               "回复“同意”或“不同意”。")
CONSENT_YES = "谢谢！办理结果将在社区公示页展示。"
CONSENT_NO = "好的，不公示。"
CONSENT_YES_WORDS = ("同意", "同意公示", "是", "好", "可以", "好的", "行")
CONSENT_NO_WORDS = ("不同意", "不公示", "否", "不", "不要", "不用", "不可以")
PUBLIC_TITLE = "{community} 办理结果公示"
PUBLIC_RESOLVED = "已办结的群众留言"
PUBLIC_NONE = "暂无公示内容"
PUBLIC_GOLDEN = "金点子"
PUBLIC_RESOLUTIONS = "红色议事厅决议"
PUBLIC_RESULT = "办理结果"
PUBLIC_PHOTO_ALT = "办理现场照片"
PUBLIC_NOT_FOUND = "没有这个社区的公示页。"
PUBLIC_LINK = "本社区办理结果公示：{url}"
PUBLIC_NO_BRANCH = "还不知道您所在的社区，请先扫网格二维码或留言一次。"
PUBLIC_WORDS = ("公示", "结果公示", "公示栏")
PUB_HIDDEN = "留言 {no} 已从公示页隐藏。"
PUB_SHOWN = "留言 {no} 已恢复公示。"
PUB_HIDE_USAGE = "隐藏公示 <编号> / 恢复公示 <编号>（书记）"
PUB_NOT_DONE = "留言 {no} 还没有办结，不能公示。"
PUB_NO_CONSENT = "留言 {no} 的居民不同意（或未同意）公示，不能公示。"
GOLDEN_USAGE = "金点子 <编号>（书记）：把居民的建议标为金点子。"
GOLDEN_DONE = "留言 {no} 已标为金点子，已感谢居民，计入支部创新成果。"
GOLDEN_ALREADY = "留言 {no} 已经是金点子了。"
GOLDEN_THANKS = "您的建议（留言 {no}）被社区采纳为“金点子”，感谢您为社区出谋划策！"
CASE_USAGE = "案例 <编号> <标题>（书记）：把办结的留言收入创新案例库。"
CASE_DONE = "留言 {no} 已收入案例库：{title}。"
CASE_ALREADY = "留言 {no} 已在案例库中。"
CASE_NOT_DONE = "留言 {no} 还没有办结，办结后再收入案例库。"
COUNCIL_TOPIC_USAGE = "议题 <编号> 或 议题 <热词>：把留言或热点提为红色议事厅议题。"
COUNCIL_TOPIC_DONE = "已提为议题 #{id}：{what}。每周五汇总候选议题。"
COUNCIL_TOPIC_TWICE = "这个议题已经提过了（议题 #{id}）。"
COUNCIL_TOPIC_TICKET = "留言 {no}（{category}）"
COUNCIL_TOPIC_KEYWORD = "热点“{keyword}”"
COUNCIL_CANDIDATES = ("本周红色议事厅候选议题（关注多、热点优先）：\n{lines}\n"
                      "回复“选题 <议题号…>”选定，例如“选题 {example}”。")
COUNCIL_CANDIDATE_LINE = "#{id} {what}（{followers} 人关注）"
COUNCIL_NO_CANDIDATES = "暂无候选议题。"
COUNCIL_SELECT_USAGE = "选题 <议题号…>，例如“选题 1 3”。"
COUNCIL_SELECTED = "已选定议题：{ids}。发送“召开 <日期> <地点>”安排议事会（默认本月最后一个周六）。"
COUNCIL_SELECT_UNKNOWN = "没有这些议题：{ids}。本条未保存。"
COUNCIL_CALL_USAGE = "召开 <日期> <地点>，例如“召开 12-26 社区党群服务中心”；日期可省略，默认本月最后一个周六。"
COUNCIL_CALL_NOTHING = "还没有选定的议题，请先“选题 <议题号>”。"
COUNCIL_DAY = "{month}月{day}日"
COUNCIL_CALL_TOO_SOON = "议事会至少提前 {days} 天通知，最早可定在 {earliest}。本条未保存。"
COUNCIL_CALL_BAD_DATE = "看不懂日期“{raw}”，请写成 12-26 或 2026-12-26。"
COUNCIL_CALLED = "已安排议事会 #{id}：{when}，{place}。议题：{topics}。已通知 {n} 位居民，回复“参加”即可报名。"
COUNCIL_NOTICE = "【红色议事厅】{when}在{place}召开议事会，议题：{topics}。欢迎参加，回复“参加”报名。"
COUNCIL_JOINED = "已报名 {when} 的红色议事厅，谢谢参与！"
COUNCIL_JOINED_ALREADY = "您已经报名了 {when} 的议事会。"
COUNCIL_NOTHING_TO_JOIN = "近期没有您收到通知的议事会。"
COUNCIL_SUB_ON = "已开启议事会通知：本网格召开红色议事厅时会通知您。"
COUNCIL_SUB_OFF = "已关闭议事会通知。"
COUNCIL_SUB_NO_GRID = "还不知道您所在的网格，请先扫网格二维码。"
COUNCIL_RESOLVE_USAGE = "决议 <议事会号> <决议内容>；跟进事项另起一行：“跟进 <党员> <天数> <事项>”。"
COUNCIL_UNKNOWN_MEETING = "没有议事会 #{id}。本条未保存。"
COUNCIL_ALREADY_RESOLVED = "议事会 #{id} 已经记录过决议，本条未保存。"
COUNCIL_RESOLVED = "已记录议事会 #{id} 的决议并公示；跟进事项 {n} 件已派给党员：{nos}。"
COUNCIL_BAD_FOLLOWUP = "看不懂跟进事项“{line}”：写成“跟进 <党员> <天数> <事项>”。本条未保存。"
COUNCIL_FOLLOWUP_TEXT = "【议事会 #{id} 跟进】{text}"
COUNCIL_RESULT_RESIDENT = "您关注的议题已有决议（红色议事厅 #{id}）：{resolution}"
COUNCIL_SUMMARY = "议事会 #{id} 的跟进事项已全部办结：\n{lines}"
COUNCIL_SUMMARY_LINE = "· {no} {member}：{summary}"
COUNCIL_REGISTERED = "报名 {n} 人"
COUNCIL_MEMBER_MENU = ("\n· 日志 <类别> <内容> —— 记线下工作（可再发照片、位置）"
                       "\n· 代录 <手机号或姓名> <内容> —— 代没有微信的居民留言；代答 <编号> <回答>"
                       "\n· 议题 <编号或热词>；书记：选题 / 召开 / 决议 —— 红色议事厅"
                       "\n· 书记：金点子 <编号>；案例 <编号> <标题>；隐藏公示 / 恢复公示 <编号>；删除联系人 <编号>")
MEMBER_MENU = MEMBER_MENU + COUNCIL_MEMBER_MENU
W_UNKNOWN_COMMAND = "没有看懂这条指令。\n" + MEMBER_MENU
DIGEST_PARTICIPATION = "线下工作日志：{logs} 条；金点子 {golden} 个；新增案例 {cases} 个；议题解决率 {council}"
EVENT_NAMES.update({"bound": "代录留言绑定到居民微信", "golden": "评为金点子", "case": "收入案例库",
                    "council_topic": "提为议事会议题", "publicity_hidden": "隐藏公示", "publicity_shown": "恢复公示",
                    "publicity_consent": "居民答复是否同意公示", "council_resolution": "议事会形成决议",
                    "voice": "语音留言"})
PROXY_ANSWER_USAGE = "代答 <编号> <居民的回答>：代没有微信的居民回答党员的询问。"
PROXY_ANSWER_NOT_WAITING = "留言 {no} 没有在等居民补充信息。"
PROXY_ANSWER_NOT_YOURS = "留言 {no} 不是您代录的留言（书记可代答本支部的代录留言）。"
PROXY_ANSWERED = "已代居民补充留言 {no}，已转给询问的党员。"
PROXY_ERASE_USAGE = "删除联系人 <编号>（书记）：按代录居民的要求删除其联系方式和留言中的个人信息。"
PROXY_ERASE_NONE = "留言 {no} 不是代录留言，或联系人已删除。"
PROXY_ERASED = "已删除留言 {no} 的代录联系人和个人信息。"
VOICE_DESCRIPTION = "语音留言"
LM_VOICE_KEPT = "语音没能识别成文字，已保存语音，党员会直接听您的语音。"
CARD_VOICE_KEY = "语音"
CARD_VOICE_LINK = "播放语音留言"

# -- words that were written in code before ----------------------------------------------------
PT_APPOINTMENT_DONE = "服务日接待 A{id}"          # the points ledger's reason
UNIT_HOURS = "{value:g}小时"
UNIT_PERCENT = "{value:g}%"
CHAT_PUSH = "[推送] {text}"                       # the terminal chat shows a pushed message

# -- #20 conversation and lifecycle defects found by playing --------------------------------
# Modal particles dropped when a short answer is looked up: "还行吧" reads as "还行".
TRAILING_PARTICLES = "吧啊呀哦噢啦呢嘛哈了"
RATING_WORDS.update({
    "一般般": "basic", "还行": "basic", "还好": "basic", "还凑合": "basic", "马马虎虎": "basic",
    "过得去": "basic", "凑合吧": "basic", "也就那样": "basic", "基本解决": "basic", "差不多": "basic",
    "不错": "satisfied", "挺好": "satisfied", "挺好的": "satisfied", "很不错": "satisfied",
    "非常感谢": "satisfied", "太好了": "satisfied", "解决了": "satisfied", "已解决": "satisfied",
    "不太满意": "unsatisfied", "不怎么样": "unsatisfied", "没解决": "unsatisfied", "没有解决": "unsatisfied",
    "还没解决": "unsatisfied", "不行": "unsatisfied", "太慢了": "unsatisfied",
})
# Words that only say "heard you" (besides THANKS_WORDS); not 确认 / 提交 / 是, which answer a question.
ACK_WORDS = ("好", "好的", "好吧", "嗯", "嗯嗯", "行", "可以", "没问题", "对", "对的", "ok", "收到", "知道了",
             "明白", "明白了", "了解", "晓得了", "嗯呢", "哦", "噢", "好滴", "好嘞")
LM_TEXT_NONSENSE = "没看懂这段文字。请用中文说清楚是什么问题，例如：“3号楼门口的路灯坏了一个星期”。"
LM_OFFER_TAKEN = "好的，就用您刚才说的：“{text}”（回复“返回”可以修改或补充）。"
LM_SUMMARY_FOOT = "回复“确认”提交，“返回”修改地点，“取消”放弃。"
# Beside the resident's own similar ticket 确认 is not enough (they choose 关注 or 仍然提交);
# beside a neighbour's, 确认 files their own ticket, and the question says so.
LM_SUMMARY_DUP = LM_SUMMARY.replace(LM_SUMMARY_FOOT, "“返回”修改地点，“取消”放弃。")
LM_SUMMARY_DUP_GRID = LM_SUMMARY.replace(LM_SUMMARY_FOOT,
                                         "回复“确认”提交为您自己的新留言，“返回”修改地点，“取消”放弃。")
LM_DUP_CHOOSE = ("有一条相似的留言 {no}，请选择：回复“关注”跟进那一条（不重复提交），"
                 "或回复“仍然提交”另建一条新留言。")
RATE_ACK_ASK = "好的。留言 {no} 已办结，方便的话请评价：回复“满意”“基本满意”或“不满意”。"
ACK_REPLY = "好的。还有需要随时发送“留言”，发送“查询”看进度，“帮助”查看更多。"
RATE_CLOSED_ASK = ("如对这样处理有意见，可回复“满意”“基本满意”或“不满意”告诉我们，"
                   "不满意会转给支部书记。")
RATE_CLOSED_THANKS = "谢谢您的反馈，已记录。"
RATE_CLOSED_UNSATISFIED = "已记录您的意见，并转给支部书记复核留言 {no} 的处理。"
SECRETARY_CLOSED_UNSATISFIED = "【居民不满意】工单 {no} 作未解决关闭后，居民表示不满意，请复核。"
W_NOTHING_PENDING = "没有进行中的操作，无需取消。发送“帮助”查看指令。"
MY_LAST_REPLY = "最新答复：{text}"
MY_LAST_RESOLVED = "办结说明：{text}"
MY_LAST_CLOSED = "关闭原因：{text}"
MY_NO_REPLY = "暂无答复"
PAGE_DONE_PHOTOS = "办结照片"
# Words that make a short idle message a problem worth offering as a ticket (besides nlp.urgent_words).
PROBLEM_WORDS = ("坏了", "坏掉", "不亮", "漏水", "渗水", "堵了", "堵塞", "停水", "停电", "没水", "没电", "噪音",
                 "太吵", "很吵", "扰民", "垃圾", "很臭", "异味", "乱停", "占道", "没人管", "没人修",
                 "破损", "塌了", "脱落", "积水", "漏电", "乱扔", "违建", "欠薪")
# A resident asking how their ticket goes: answered with 查询.
PROGRESS_WORDS = ("什么时候修", "什么时候来", "什么时候处理", "什么时候解决", "修好了吗", "处理了吗", "怎么样了",
                  "有进展吗", "进展如何", "到哪一步了", "还没修", "还没人来", "还没处理")
R_NOTHING_PENDING = "现在没有进行中的操作。需要时发送“留言”“预约”或“查询”。"
W_ACK = "好的。发送“我的工单”查看待办，“帮助”查看指令。"
FLOW_FINISH_FIRST = "您正在{flow}。要评价其他留言，请先发送“取消”结束{flow}，再发送“评价 编号”。"
# More ways to say no to 公示 (#15's table, extended).
CONSENT_NO_WORDS = CONSENT_NO_WORDS + ("不用了", "不了", "不必了", "别公示", "不要公示", "不想公示", "不愿意")
W_WORDS_NOT_CONTENT = "“好的”“嗯”这类话不能作为{action}内容，居民会看不明白。"
# A resident asking for a person or to complain, without saying what about yet.
INTENT_WORDS = ("我要投诉", "投诉", "我要反映", "我要举报", "举报", "人工", "人工客服", "转人工", "客服", "找书记",
                "找党员", "有事", "我有事", "我有问题", "有问题")
INTENT_REPLY = "请直接说说遇到了什么问题（什么事、在哪里），我们会交给党员办理；也可以发送“留言”一步步提交。"

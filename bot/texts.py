"""Every sentence residents and members read, in one place, so wording changes touch no logic."""

# -- words a person types ------------------------------------------------------
CANCEL_WORDS = ("取消", "退出", "算了")
BACK_WORDS = ("返回", "上一步")
HELP_WORDS = ("帮助", "?", "？", "help")
CONFIRM_WORDS = ("确认", "确定", "提交", "是", "好", "1")
SKIP_WORDS = ("跳过", "没有", "无", "不用", "完成", "好了")
KEEP_GRID_WORDS = ("不变", "默认", "就这里", "本网格")
FOLLOW_WORDS = ("关注",)
SUBMIT_ANYWAY_WORDS = ("仍然提交", "继续提交", "提交")

# -- general -------------------------------------------------------------------
APOLOGY = "抱歉，系统开了个小差，您的消息没有处理成功。请稍后再发一次，给您添麻烦了。"
BUSY = "您上一条消息还在处理中，请稍等几秒再发。"
CANCELLED = "好的，已取消。需要时随时发送“留言”“预约”或“查询”。"
NOTHING_TO_GO_BACK = "已经是第一步了。"
FLOW_EXPIRED = "上一次的对话已超时结束，请重新开始。"

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
    "· 积分 —— 查看本月积分"
)
MEMBER_UNKNOWN = "您好，这个企业微信应用只为党员开放。如需开通，请联系支部书记。"
UNSUPPORTED_KIND = "暂时只能处理文字、语音、图片和位置消息。" + "发送“帮助”查看可以做什么。"
UNSUBSCRIBED_BYE = "再见，欢迎随时回来。"

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
}
PRIORITY_NAMES = {"urgent": "紧急", "normal": "一般"}

# -- member notices --------------------------------------------------------------
CARD_NEW_TITLE = "新工单 {no}｜{priority}"
CARD_NEW_BODY = ("居民：{resident}\n分类：{category}｜{department}\n地点：{place}\n"
                 "内容：{text}\n响应时限：{response_due}\n答复时限：{reply_due}")
CARD_BUTTON = "接单处理"
PRIORITY_RAISED = "工单 {no} 经情绪分析升级为紧急，请优先处理。"
PHOTO_OUTSIDE_FLOW = "收到照片。如果要反映问题，请先发送“留言”，再按提示上传照片。"
LOCATION_OUTSIDE_FLOW = "收到位置。如果要反映问题，请先发送“留言”，再按提示说明地点。"
CARD_ACTIONS = (("接单", "accept"), ("回复", "reply"), ("办结", "resolve"), ("转派", "transfer"))
PHOTO_LOST = "您留言 {no} 的第{n}张照片没能保存（微信服务器已过期或不可用），如需补充请在回复时说明。"

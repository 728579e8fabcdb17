"""The integration's words in English and Chinese, and the language a request is in.

The CRM is translated with Django's i18n; our pages follow the language of the request
(``zh-hans`` and other ``zh`` codes show Chinese, anything else English), while statuses and
labels always show both names.
"""

from __future__ import annotations

from django.utils import translation

from complaintkit import Names

__all__ = ["ACTION_NAMES", "TEXTS", "action_name", "lang", "texts"]

TEXTS: dict[str, Names] = {
    "complaint": Names("complaint", "投诉"),
    "complaints": Names("complaints", "投诉"),
    "register_complaint": Names("Register complaint", "登记投诉"),
    "register": Names("Register", "登记"),
    "complainant": Names("Complainant", "投诉人"),
    "customer_id": Names("Customer id", "客户编号"),
    "name": Names("Name", "姓名"),
    "phone": Names("Phone", "电话"),
    "email": Names("E-mail", "电子邮箱"),
    "title": Names("Title", "标题"),
    "text": Names("What happened", "投诉内容"),
    "channel": Names("Channel", "渠道"),
    "product": Names("Product", "产品"),
    "order": Names("Order", "订单"),
    "remedy_sought": Names("Remedy sought", "诉求"),
    "reference": Names("Reference", "编号"),
    "status": Names("Status", "状态"),
    "level": Names("Escalation level", "层级"),
    "received": Names("Received", "受理时间"),
    "department": Names("Department", "部门"),
    "assignee": Names("Assignee", "处理人"),
    "due_at": Names("Due", "截止时间"),
    "sla_policy": Names("SLA policy", "时限规则"),
    "solution": Names("Solution", "解决方案"),
    "satisfaction": Names("Satisfaction", "满意度"),
    "deadlines": Names("Deadlines", "处理时限"),
    "target": Names("Target", "目标"),
    "deadline": Names("Deadline", "截止"),
    "met": Names("Met", "完成时间"),
    "outcome": Names("Outcome", "结果"),
    "labels": Names("Labels", "分类"),
    "scheme": Names("Scheme", "方案"),
    "label": Names("Label", "标签"),
    "confidence": Names("Confidence", "置信度"),
    "evidence": Names("Evidence", "依据"),
    "by": Names("By", "来源"),
    "set_label": Names("Set label", "设置分类"),
    "classify": Names("Classify automatically", "自动分类"),
    "next_actions": Names("Next actions", "下一步操作"),
    "no_actions": Names("None: the complaint is finished.", "无：投诉已办结。"),
    "reason": Names("Reason", "原因"),
    "history": Names("History", "处理记录"),
    "when": Names("When", "时间"),
    "actor": Names("Who", "操作人"),
    "action": Names("Action", "操作"),
    "detail": Names("Detail", "详情"),
    "contact": Names("Contact", "联系人"),
    "company": Names("Company", "公司"),
    "registered_by": Names("Registered by", "登记人"),
    "none_yet": Names("No complaints yet.", "暂无投诉。"),
    "select_one": Names(
        "Select one record to register a complaint for.", "请选择一条记录来登记投诉。"
    ),
    "optional": Names("optional", "可选"),
    "registered": Names("Complaint {reference} registered.", "投诉 {reference} 已登记。"),
    "done": Names("Complaint {reference}: {action} done.", "投诉 {reference}：已{action}。"),
    "labelled": Names("Complaint {reference}: label set.", "投诉 {reference}：分类已设置。"),
    "classified": Names("Complaint {reference} classified.", "投诉 {reference} 已分类。"),
    "not_in_store": Names(
        "Complaint {reference} is not in the complaint store ({store}).",
        "投诉库（{store}）中没有投诉 {reference}。",
    ),
}

#: Button names of the lifecycle's actions (complaintkit.lifecycle.TRANSITIONS); an action
#: not listed here (a newer complaintkit) shows its key.
ACTION_NAMES: dict[str, Names] = {
    "acknowledge": Names("Acknowledge", "确认受理"),
    "assess": Names("Assess", "评估"),
    "investigate": Names("Investigate", "调查"),
    "propose": Names("Propose solution", "提出方案"),
    "accept": Names("Customer accepted", "客户接受方案"),
    "decline": Names("Customer declined", "客户拒绝方案"),
    "implement": Names("Implement", "实施"),
    "resolve": Names("Resolve", "解决"),
    "close": Names("Close", "结案"),
    "reopen": Names("Reopen", "重新打开"),
    "withdraw": Names("Withdrawn by customer", "客户撤诉"),
    "reject": Names("Reject", "不予受理"),
}


def lang() -> str:
    """``"zh"`` when the request's language is Chinese, else ``"en"``."""
    return "zh" if (translation.get_language() or "").lower().startswith("zh") else "en"


def texts() -> dict[str, str]:
    """Every word of :data:`TEXTS` in the request's language (for templates)."""
    current = lang()
    return {key: names.get(current) for key, names in TEXTS.items()}


def action_name(action: str) -> str:
    """The button name of ``action`` in the request's language."""
    names = ACTION_NAMES.get(action)
    return names.get(lang()) if names else action

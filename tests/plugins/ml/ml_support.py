"""A small bilingual training set, written by hand for these tests (no data set): complaints
whose cause a complaint handler would name without hesitation."""

from __future__ import annotations

CAUSE_LABELS = ("product_quality", "service_quality", "price", "integrity")

#: (text, cause) — product quality, service quality and price, in English and Chinese.
EXAMPLES: list[tuple[str, str]] = [
    ("The screen went black after two days and the phone will not turn on", "product_quality"),
    ("My new fridge stopped cooling within a week, the compressor is broken", "product_quality"),
    ("The washing machine leaks water every time, it is defective", "product_quality"),
    ("The battery is broken and the charger overheats", "product_quality"),
    ("The kettle broke on the first day, the handle cracked", "product_quality"),
    ("Defective headphones: the left side is broken and crackles", "product_quality"),
    ("手机用了三天就黑屏，屏幕坏了", "product_quality"),
    ("新买的冰箱不制冷，压缩机坏了", "product_quality"),
    ("洗衣机漏水，质量太差", "product_quality"),
    ("电池鼓包，充电器发烫，质量问题", "product_quality"),
    ("水壶第一天就坏了，把手裂开", "product_quality"),
    ("耳机左边坏了，有杂音，质量差", "product_quality"),
    ("The agent was rude and hung up on me", "service_quality"),
    ("Nobody from customer service called back after three days of waiting", "service_quality"),
    ("The staff ignored me and the manager was rude", "service_quality"),
    ("I waited on hold for an hour and the agent was rude", "service_quality"),
    ("Customer service never answered my emails", "service_quality"),
    ("The support staff were impolite and unhelpful", "service_quality"),
    ("客服态度很差，直接挂我电话", "service_quality"),
    ("等了三天客服也没有回电话", "service_quality"),
    ("店员不理人，经理态度恶劣", "service_quality"),
    ("电话排队一个小时，客服态度差", "service_quality"),
    ("客服一直不回复我的邮件", "service_quality"),
    ("服务人员没有礼貌，服务态度差", "service_quality"),
    ("The price is far too expensive and they overcharged me", "price"),
    ("I was charged twice and the fee is too expensive", "price"),
    ("They raised the price again, an unfair extra fee", "price"),
    ("The bill overcharged me for a service fee I never agreed to", "price"),
    ("Too expensive: the delivery fee doubled", "price"),
    ("An unexpected late fee and an expensive monthly charge", "price"),
    ("价格太贵了，还乱收费", "price"),
    ("被重复扣费，收费太贵", "price"),
    ("又涨价了，额外收费不合理", "price"),
    ("账单多收了服务费", "price"),
    ("太贵了，运费翻倍", "price"),
    ("莫名其妙的滞纳金，月费太贵", "price"),
]

from decimal import Decimal

from finance.charts import absorption_layout

D = Decimal


def test_the_chart_reaches_the_total_at_the_top():
    chart = absorption_layout(months=10, total=D("1000.00"), monthly=[D("500.00")])
    # 170 px of height for 1,000.00: 500.00 is at 180 - 85 = 95; the plan ends at the top, y = 10.
    assert chart.points == "40,180 95.0,95.0"
    assert chart.plan_points == "40,180 590,10.0"
    assert chart.top_label == "EUR 1,000.00"


def test_spending_over_the_total_stays_inside_the_chart():
    chart = absorption_layout(months=10, total=D("1000.00"), monthly=[D("1000.00"), D("1000.00")])
    # The scale reaches the 2,000.00 verified; the plan's 1,000.00 ends half-way up: 180 - 85 = 95.
    assert chart.points == "40,180 95.0,95.0 150.0,10.0"
    assert chart.plan_points == "40,180 590,95.0"
    assert chart.top_label == "EUR 2,000.00"


def test_a_partner_without_budget_or_costs_gets_a_flat_chart():
    chart = absorption_layout(months=10, total=D("0.00"), monthly=[D("0.00")])
    assert chart.points == "40,180 95.0,180.0"
    assert chart.plan_points == "40,180 590,180.0"
